/** Reports: gather a run's or a sweep's metrics, choose the plots that carry information, render one self-contained HTML page. */
export { collectReport, configurationOf, reportSummary, type ReportData, type ReportRun } from './collect.js';
export { choosePanels, flatness, type Panel } from './panels.js';
export { configurationRows, renderReport, TABLE_COLUMNS } from './html.js';
export { formatMetric, formatNumber, formatPercent } from './format.js';
export { collectInspect, type InspectData, type InspectResponse, type InspectToken } from './inspect-data.js';
export { inspectFileName, renderInspect } from './inspect-html.js';
