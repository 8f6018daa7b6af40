/** Prometheus metrics of a worker: creditflow's own (prom-client) and the Temporal SDK's runtime metrics. */
export { activityMetrics } from './activity-metrics.js';
export { freeLoopbackPort, metricsPortFrom, startMetricsEndpoint, type MetricsEndpoint } from './exporter.js';
export { CreditflowMetrics } from './metrics.js';
