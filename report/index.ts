/** Reports: gather a run's or a sweep's metrics, render one self-contained HTML page. */
export { collectReport, type ReportData, type ReportRun } from './collect.js';
export { CURVES } from './charts.js';
export { renderReport, TABLE_COLUMNS } from './html.js';
