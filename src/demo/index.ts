// Public demo API: the whole pipeline as one call, and its parts.
export { runDemo, resolveDemoOptions, readDemoResults, REPORT_FILE, RESULTS_FILE, RESULTS_JSON, LOG_FILE } from './run.js';
export type { DemoResult } from './run.js';
export { DEMO_SCALE, QUICK_SCALE, DEFAULT_MINUTES, DEFAULT_OUTPUT_DIR, DEFAULT_SEED } from './settings.js';
export type { DemoOptions, DemoScale } from './settings.js';
export { renderReport, chartJsBundle } from './report.js';
export type { ReportData, ReportStage } from './report.js';
export { resultsTable, formatTable, markdownTable } from './table.js';
export type { ResultsTable } from './table.js';
export { demoTask, evenly, DEMO_TASKS } from './finetune.js';
export type { DemoTask, FinetuneSummary } from './finetune.js';
export { exampleSentences, readMetricsLog } from './pretrain.js';
export type { PretrainSummary, HeldoutPoint, ExampleSentence, ExampleToken } from './pretrain.js';
export { DemoInterrupted } from './stages.js';
