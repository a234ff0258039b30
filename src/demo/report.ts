// report.html: one self-contained page (Chart.js's browser bundle inlined, the data as JSON in the
// page) with the pre-training curves, the fine-tuning results and example sentences highlighted by
// the discriminator's P(replaced). Opens without a network.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { StepLog } from '../pretrain/run.js';
import type { FinetuneSummary } from './finetune.js';
import type { PretrainSummary } from './pretrain.js';
import { pretrainingLengthNotes, type ResultsTable } from './table.js';

export interface ReportStage {
  stage: string;
  summary: string;
  seconds: number;
  reused: boolean;
}

export interface ReportData {
  title: string;
  generatedAt: string;
  machine: string;
  settings: Record<string, unknown>;
  stages: ReportStage[];
  pretraining: { summary: PretrainSummary; metrics: StepLog[] }[];
  finetuning: FinetuneSummary[];
  table: ResultsTable;
}

/** The text of Chart.js's UMD browser bundle from node_modules (it defines window.Chart). */
export function chartJsBundle(): string {
  const require = createRequire(import.meta.url);
  // The package's exports map has no entry for the UMD file: find it beside the CommonJS entry.
  const file = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');
  return readFileSync(file, 'utf8');
}

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const STYLE = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1100px; padding: 24px; color: #1f2328; }
h1 { margin-bottom: 4px; } h2 { margin-top: 36px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
.sub { color: #57606a; }
table { border-collapse: collapse; margin: 12px 0; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f6f8fa; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; }
.chart { position: relative; height: 280px; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px; }
.sentence { margin: 14px 0; line-height: 2.3; }
.sentence .meta { color: #57606a; font-size: 13px; }
.tok { padding: 2px 1px; border-radius: 3px; white-space: nowrap; }
.tok.masked { outline: 1px dashed #8c959f; }
.tok.replaced { outline: 2px solid #1f2328; }
.tok .orig { font-size: 11px; color: #57606a; text-decoration: line-through; margin-left: 3px; }
.legend span { padding: 2px 6px; margin-right: 8px; border-radius: 3px; }
pre { background: #f6f8fa; padding: 10px; overflow-x: auto; font-size: 12px; }
`;

// Runs in the browser: draws the charts from the JSON block and colours the tokens.
const PAGE_SCRIPT = `
const data = JSON.parse(document.getElementById('demo-data').textContent);
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
const colors = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bc4c00', '#57606a'];
function line(id, title, datasets, yTitle, extraScales) {
  const scales = { x: { type: 'linear', title: { display: true, text: 'update (step)' } }, y: { title: { display: true, text: yTitle } } };
  Object.assign(scales, extraScales || {});
  new Chart(document.getElementById(id), {
    type: 'line',
    data: { datasets: datasets.map((d, i) => Object.assign({ borderColor: colors[i % colors.length], backgroundColor: colors[i % colors.length], pointRadius: 0, borderWidth: 1.5 }, d)) },
    options: { parsing: false, plugins: { title: { display: true, text: title } }, scales },
  });
}
const pts = (log, key) => log.map((e) => ({ x: e.step, y: e[key] }));
const electra = data.pretraining.find((p) => p.summary.objective === 'electra');
const mlm = data.pretraining.find((p) => p.summary.objective === 'mlm');
if (electra) {
  const log = electra.metrics;
  const losses = [
    { label: 'generator (masked-LM) loss', data: pts(log, 'masked_lm_loss'), yAxisID: 'y' },
    { label: 'discriminator loss', data: pts(log, 'disc_loss'), yAxisID: 'y2' },
  ];
  line('chart-loss', 'Pre-training losses', losses, 'generator loss', { y2: { position: 'right', title: { display: true, text: 'discriminator loss' }, grid: { drawOnChartArea: false } } });
  const held = electra.summary.heldout;
  line('chart-disc', 'Discriminator: replaced-token detection', [
    { label: 'accuracy (training batches)', data: pts(log, 'disc_accuracy') },
    { label: 'AUC (held-out Brown)', data: held.map((h) => ({ x: h.step, y: h.disc_auc })), pointRadius: 4, borderWidth: 2 },
    { label: 'accuracy (held-out Brown)', data: held.map((h) => ({ x: h.step, y: h.disc_accuracy })), pointRadius: 4, borderWidth: 2, borderDash: [4, 3] },
    { label: 'calling every token original (held-out)', data: held.map((h) => ({ x: h.step, y: h.disc_all_real_accuracy })), pointRadius: 0, borderWidth: 1, borderDash: [2, 2] },
  ], 'accuracy / AUC');
}
const runs = data.pretraining;
line('chart-lr', 'Learning rate (warm-up, then linear decay)', runs.map((r) => ({ label: r.summary.objective.toUpperCase(), data: pts(r.metrics, 'learning_rate') })), 'learning rate');
line('chart-tps', 'Throughput', runs.map((r) => ({ label: r.summary.objective.toUpperCase() + ' tokens/s', data: pts(r.metrics, 'tokens_per_second') })), 'tokens per second');
if (mlm) {
  line('chart-mlm', 'Masked-LM accuracy on held-out Brown', runs.map((r) => ({
    label: r.summary.objective === 'mlm' ? 'MLM model' : 'ELECTRA generator', data: r.summary.heldout.map((h) => ({ x: h.step, y: h.masked_lm_accuracy })), pointRadius: 4,
  })), 'accuracy');
}
const t = data.table;
new Chart(document.getElementById('chart-finetune'), {
  type: 'bar',
  data: { labels: t.rows.map((r) => r.task + ' ' + r.metric), datasets: t.columns.map((c, i) => ({ label: c.label, backgroundColor: colors[i], data: t.rows.map((r) => r.scores[i]) })) },
  options: { plugins: { title: { display: true, text: 'Fine-tuning: dev-set score by initialisation' } }, scales: { y: { title: { display: true, text: 'score (%)' } } } },
});
for (const el of document.querySelectorAll('.tok')) {
  const p = Number(el.dataset.p);
  el.style.background = 'rgba(207, 34, 46, ' + (0.08 + 0.8 * p).toFixed(3) + ')';
  el.title = 'P(replaced) = ' + p.toFixed(3) + (el.dataset.orig ? ' (original: ' + el.dataset.orig + ')' : '');
}
`;

function sentenceHtml(s: PretrainSummary['examples'][number]): string {
  const piece = (x: string): string => escapeHtml(x.startsWith('##') ? x.slice(2) : x);
  // Word pieces of one word sit together; words are separated by a space.
  const toks = s.tokens.map((t, i) => {
    const cls = ['tok', t.masked ? 'masked' : '', t.replaced ? 'replaced' : ''].filter((c) => c).join(' ');
    const orig = t.replaced ? `<span class="orig">${piece(t.original)}</span>` : '';
    const space = i > 0 && !t.shown.startsWith('##') ? ' ' : '';
    return `${space}<span class="${cls}" data-p="${t.prob.toFixed(4)}"${t.replaced ? ` data-orig="${escapeHtml(t.original)}"` : ''}>${piece(t.shown)}${orig}</span>`;
  });
  const replaced = s.tokens.filter((t) => t.replaced).length;
  return `<div class="sentence"><div class="meta">${escapeHtml(s.genre)} (Brown ${escapeHtml(s.document)}), ${replaced} token(s) replaced by the generator</div>${toks.join('')}</div>`;
}

function fmt(x: number | null, digits = 2): string {
  return x === null || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

/** The whole page. */
export function renderReport(d: ReportData, chartJs: string = chartJsBundle()): string {
  const electra = d.pretraining.find((p) => p.summary.objective === 'electra');
  const mlm = d.pretraining.find((p) => p.summary.objective === 'mlm');
  const electric = d.pretraining.find((p) => p.summary.objective === 'electric');
  const stageRows = d.stages.map((s) =>
    `<tr><td>${escapeHtml(s.stage)}</td><td>${escapeHtml(s.summary)}</td><td class="num">${s.seconds.toFixed(1)} s</td><td>${s.reused ? 'reused' : 'ran'}</td></tr>`).join('\n');
  const tableHead = `<tr><th>task</th><th>metric</th>${d.table.columns.map((c) => `<th>${escapeHtml(c.label)}</th>`).join('')}</tr>`;
  const tableRows = d.table.rows.map((r) =>
    `<tr><td>${escapeHtml(r.task)}</td><td>${escapeHtml(r.metric)}</td>${r.scores.map((v) => `<td class="num">${fmt(v)}</td>`).join('')}</tr>`).join('\n');
  const pretrainRows = d.pretraining.map(({ summary: p }) => {
    const last = p.heldout[p.heldout.length - 1];
    return `<tr><td>${p.objective.toUpperCase()}</td><td>${p.discriminator ? `discriminator ${p.discriminator.num_hidden_layers}x${p.discriminator.hidden_size}, generator ${p.generator.num_hidden_layers}x${p.generator.hidden_size}` : `masked LM ${p.generator.num_hidden_layers}x${p.generator.hidden_size}`}</td>` +
      `<td class="num">${(p.parameters / 1e6).toFixed(2)}M</td><td class="num">${p.numTrainSteps}</td><td>${escapeHtml(p.updatesReason ?? '')}${p.numTrainSteps < p.plannedSteps ? ` (stopped at 1.5x the time budget, of ${p.plannedSteps})` : ''}</td><td class="num">${p.trainSeconds.toFixed(0)} s${p.threads ? ` (${p.threads} thread${p.threads > 1 ? 's' : ''})` : ''}</td>` +
      `<td class="num">${(p.stepFlops * p.numTrainSteps / 1e12).toFixed(2)}</td><td class="num">${fmt(last?.disc_auc ?? null, 3)}</td><td class="num">${fmt(last ? last.masked_lm_accuracy : null, 3)}</td></tr>`;
  }).join('\n');
  const examples = electra ? electra.summary.examples.map(sentenceHtml).join('\n') : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(d.title)}</title>
<style>${STYLE}</style>
<script>${chartJs.replace(/<\/script/gi, '<\\/script')}</script>
</head><body>
<h1>${escapeHtml(d.title)}</h1>
<div class="sub">${escapeHtml(d.generatedAt)} &middot; ${escapeHtml(d.machine)}</div>

<h2>Fine-tuning results</h2>
<p>Dev-set scores on Brown documents that pre-training never saw. Every column is fine-tuned with the same
examples, hyperparameters and seed; only the initial weights differ.</p>
<table>${tableHead}${tableRows}</table>
${pretrainingLengthNotes(d.table).map((n) => `<p class="sub">${escapeHtml(n)}</p>`).join('\n')}
<div class="chart" style="height:300px"><canvas id="chart-finetune"></canvas></div>

<h2>Pre-training</h2>
${mlm ? '<p>The masked-LM model (BERT\'s objective, as large as the discriminator) trained for as many FLOPs as the ELECTRA run used.</p>' : ''}
${electric ? '<p>Electric (a two-tower cloze generator; the discriminator adds the cloze log-probability of each token) trained for as many FLOPs as the ELECTRA run used.</p>' : ''}
<table><tr><th>objective</th><th>model (layers x hidden)</th><th>parameters</th><th>updates</th><th>why that many</th><th>time</th><th>TFLOP</th><th>held-out AUC</th><th>held-out MLM acc.</th></tr>
${pretrainRows}</table>
<div class="grid">
${electra ? '<div class="chart"><canvas id="chart-loss"></canvas></div>\n<div class="chart"><canvas id="chart-disc"></canvas></div>' : ''}
<div class="chart"><canvas id="chart-lr"></canvas></div>
<div class="chart"><canvas id="chart-tps"></canvas></div>
${mlm ? '<div class="chart"><canvas id="chart-mlm"></canvas></div>' : ''}
</div>

${electra ? `<h2>The discriminator at work</h2>
<p>Held-out sentences: the generator filled 15% of the positions (dashed outline); where its sample differs
from the original token (solid outline, original struck through) the token was replaced. Red shows the
discriminator's probability that a token was replaced.</p>
<div class="legend"><span style="background:rgba(207,34,46,0.08)">P = 0</span><span style="background:rgba(207,34,46,0.48)">P = 0.5</span><span style="background:rgba(207,34,46,0.88)">P = 1</span></div>
${examples}` : ''}

<h2>Stages</h2>
<table><tr><th>stage</th><th>result</th><th>time</th><th></th></tr>
${stageRows}</table>

<h2>Settings</h2>
<pre>${escapeHtml(JSON.stringify(d.settings, null, 2))}</pre>

<script id="demo-data" type="application/json">${scriptJson(d)}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
