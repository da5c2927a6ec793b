// The live demo (examples/index.html, bundled to dist/examples/demo.js; `npm run demo` serves it):
// the head-to-head of src/sim/scenario.ts in the page, on WebGPU, charts redrawn every round, a
// button that brings the market shock forward to now. URL parameters preset the form:
// ?steps=…&batch=…&seed=…&algos=linucb,random (or all)&autoshock=0&trainingRows=…&epochs=…&backend=cpu&autostart=1
import { createBackend, type Backend } from '../src/index.js';
import {
  ALGORITHM_DESCRIPTIONS, ALGORITHMS, DEFAULT_ALGORITHMS, escapeHtml, lineChartSvg, RESULT_COLUMNS, resolveScenario, resultRows, runScenario, scenarioSimulator, seriesColor,
  type AlgorithmKey, type EcommerceSimulator, type RoundSnapshot, type ScenarioRun,
} from '../src/sim/index.js';

/** What the page exposes for its test (harness/run-demo.mjs) and for curious users (window.__demo). */
interface DemoState {
  state: 'idle' | 'starting' | 'training' | 'running' | 'done' | 'stopped' | 'error';
  backend: string | null;
  fallback: string | null;
  steps: number;
  stepsDone: number;
  rounds: number;
  shockStep: number | null;
  policies: string[];
  error: string | null;
  totalRegret: Record<string, number>;
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo: #${id} is missing from the page`);
  return el as T;
};

const params = new URLSearchParams(location.search);
const demo: DemoState = {
  state: 'idle', backend: null, fallback: null, steps: 0, stepsDone: 0, rounds: 0, shockStep: null, policies: [], error: null, totalRegret: {},
};
(window as unknown as { __demo: DemoState }).__demo = demo;

const form = {
  steps: $<HTMLInputElement>('steps'), batch: $<HTMLInputElement>('batch'), seed: $<HTMLInputElement>('seed'),
  autoshock: $<HTMLInputElement>('autoshock'), algos: $<HTMLFieldSetElement>('algos'),
};
const buttons = { start: $<HTMLButtonElement>('start'), stop: $<HTMLButtonElement>('stop'), shock: $<HTMLButtonElement>('shock') };
const statusLine = $('status');
const progressBar = $<HTMLProgressElement>('progress');

for (const key of ALGORITHMS) {
  const label = document.createElement('label');
  label.title = ALGORITHM_DESCRIPTIONS[key];
  label.innerHTML = `<input type="checkbox" name="algo" value="${key}"${DEFAULT_ALGORITHMS.includes(key) ? ' checked' : ''}> ${key} `;
  form.algos.append(label);
}
if (params.has('steps')) form.steps.value = params.get('steps')!;
if (params.has('batch')) form.batch.value = params.get('batch')!;
if (params.has('seed')) form.seed.value = params.get('seed')!;
if (params.has('autoshock')) form.autoshock.checked = params.get('autoshock') !== '0';
if (params.has('algos')) {
  const given = params.get('algos')!;
  const wanted = new Set<string>(given === 'all' ? ALGORITHMS : given.split(','));
  for (const box of form.algos.querySelectorAll<HTMLInputElement>('input[name=algo]')) box.checked = wanted.has(box.value);
}

function setStatus(text: string): void {
  statusLine.textContent = text;
}

function showError(e: unknown): void {
  const box = $('error');
  box.style.display = 'block';
  box.textContent = `The run failed: ${e instanceof Error ? e.message : String(e)}`;
}

let backendPromise: Promise<Backend> | null = null;

/** WebGPU, or the cpu backend with a visible message when the browser has no adapter (or ?backend=cpu). */
function getBackend(): Promise<Backend> {
  backendPromise ??= (async () => {
    const banner = $('fallback');
    let backend: Backend;
    if (params.get('backend') === 'cpu') {
      backend = await createBackend({ kind: 'cpu' });
      demo.fallback = 'the cpu backend was asked for (?backend=cpu)';
    } else {
      try {
        backend = await createBackend({ kind: 'webgpu' });
      } catch (e) {
        demo.fallback = e instanceof Error ? e.message : String(e);
        backend = await createBackend({ kind: 'cpu' });
      }
    }
    if (demo.fallback) {
      banner.style.display = 'block';
      banner.textContent = 'WebGPU is not available here, so the algorithms run on the cpu backend (float64 JavaScript) instead. ' +
        `Why: ${demo.fallback.replace(/^webgpu-bandits: /, '').replace(/\.+$/, '')}.`;
    }
    demo.backend = backend.info.summary;
    $('backend').textContent = `Backend: ${backend.info.summary}`;
    return backend;
  })();
  return backendPromise;
}

/** Per policy, what the rounds so far say: for the live charts and the figures. */
interface Track {
  name: string;
  color: string;
  cumulative: number[];
  roundClicks: number[];
  roundRegret: number[];
}

const yieldToPage = () => new Promise<void>((ok) => setTimeout(ok, 0));

let controller: AbortController | null = null;
let shockRequested = false;

function render(tracks: Track[], roundEnds: number[], steps: number, window: number, shockStep: number | null, done: number): void {
  const marker = shockStep !== null && shockStep < steps
    ? { x: shockStep, label: shockStep <= done ? `market shock (step ${shockStep})` : `shock planned (step ${shockStep})` }
    : null;
  const xs = [0, ...roundEnds];
  $('regret-chart').innerHTML = lineChartSvg({
    title: 'Cumulative regret (lower is better)', xLabel: 'step (user arrivals)', yLabel: 'cumulative expected regret', xMax: steps, marker,
    series: tracks.map((t) => ({ name: t.name, color: t.color, x: xs, y: [0, ...t.cumulative] })),
  });
  // CTR over the trailing `window` steps at each round's end (whole rounds: at least `window` steps).
  const trailing = (t: Track): number[] => {
    const out: number[] = [];
    let clicks = 0, from = 0;
    for (let r = 0; r < roundEnds.length; r++) {
      clicks += t.roundClicks[r]!;
      while (from < r && roundEnds[r]! - roundEnds[from]! >= window) clicks -= t.roundClicks[from++]!;
      const first = from === 0 ? 0 : roundEnds[from - 1]!;
      out.push(clicks / (roundEnds[r]! - first));
    }
    return out;
  };
  $('ctr-chart').innerHTML = lineChartSvg({
    title: `Click-through rate, trailing ${window} steps (higher is better)`, xLabel: 'step (user arrivals)', yLabel: 'CTR',
    xMax: steps, yMin: 0, marker, yFormat: (v) => v.toFixed(2),
    series: tracks.map((t) => ({ name: t.name, color: t.color, x: roundEnds, y: trailing(t) })),
  });
  const body = $('figures').querySelector('tbody')!;
  const after = shockStep !== null && shockStep < done;
  body.innerHTML = tracks.map((t) => {
    let clicks = 0, before = 0, beforeSteps = 0, lastRegret = 0, lastSteps = 0;
    for (let r = 0; r < roundEnds.length; r++) {
      const start = r === 0 ? 0 : roundEnds[r - 1]!;
      clicks += t.roundClicks[r]!;
      if (shockStep === null || start < shockStep) {
        before += t.roundClicks[r]!;
        beforeSteps += roundEnds[r]! - start;
      }
      if (done - start <= window) {
        lastRegret += t.roundRegret[r]!;
        lastSteps += roundEnds[r]! - start;
      }
    }
    const cells = [
      (t.cumulative[t.cumulative.length - 1] ?? 0).toFixed(1),
      done ? (clicks / done).toFixed(3) : '—',
      beforeSteps ? (before / beforeSteps).toFixed(3) : '—',
      after && done > beforeSteps ? ((clicks - before) / (done - beforeSteps)).toFixed(3) : '—',
      lastSteps ? (lastRegret / lastSteps).toFixed(3) : '—',
    ];
    return `<tr><td><span class="swatch" style="background:${t.color}"></span>${escapeHtml(t.name)}</td>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  }).join('');
}

function showFinal(run: ScenarioRun): void {
  const rows = resultRows(run.result);
  $('final-table').innerHTML = `<thead><tr>${RESULT_COLUMNS.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r, i) => `<tr><td><span class="swatch" style="background:${seriesColor(r[0]!, i)}"></span>${escapeHtml(r[0]!)}</td>` +
      `${r.slice(1).map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('') + '</tbody>';
  $('final').style.display = 'block';
}

async function start(): Promise<void> {
  $('error').style.display = 'none';
  $('final').style.display = 'none';
  const algorithms = [...form.algos.querySelectorAll<HTMLInputElement>('input[name=algo]:checked')].map((b) => b.value as AlgorithmKey);
  let scenario;
  try {
    const steps = Number(form.steps.value);
    scenario = resolveScenario({
      steps, batchSize: Number(form.batch.value), seed: Number(form.seed.value), algorithms,
      // Without the automatic shock the world is armed with a shock past the end: only the button brings it.
      shockAt: form.autoshock.checked ? Math.floor(steps / 2) : steps,
      ...(params.has('trainingRows') ? { trainingRows: Number(params.get('trainingRows')) } : {}),
      ...(params.has('epochs') ? { trainingEpochs: Number(params.get('epochs')) } : {}),
    });
  } catch (e) {
    showError(e);
    return;
  }
  buttons.start.disabled = true;
  buttons.stop.disabled = false;
  demo.state = 'starting';
  demo.error = null;
  demo.stepsDone = 0;
  shockRequested = false;
  controller = new AbortController();
  const sim: EcommerceSimulator = scenarioSimulator(scenario);
  const ctrWindow = Math.max(50, Math.ceil(scenario.steps / 30));
  const tracks: Track[] = [];
  const roundEnds: number[] = [];
  demo.steps = scenario.steps;
  demo.shockStep = null;
  progressBar.value = 0;
  try {
    const backend = await getBackend();
    setStatus('Creating the models…');
    const run = await runScenario(backend, scenario, {
      simulator: sim,
      signal: controller.signal,
      onStage: (stage) => {
        if (stage.startsWith('training')) demo.state = 'training';
        setStatus(`${stage[0]!.toUpperCase()}${stage.slice(1)}…`);
      },
      onTrainingEpoch: async (epoch, epochs, loss) => {
        setStatus(`Training Embedding + MLP on pre-shock logs: epoch ${epoch + 1}/${epochs}, loss ${loss.toFixed(3)}`);
        await yieldToPage();
      },
      onRound: async (snap: RoundSnapshot) => {
        if (tracks.length === 0) {
          snap.policies.forEach((p, i) => tracks.push({ name: p.name, color: seriesColor(p.name, i), cumulative: [], roundClicks: [], roundRegret: [] }));
          demo.policies = tracks.map((t) => t.name);
          demo.state = 'running';
          buttons.shock.disabled = false;
        }
        // The next batch is built after this callback: a shock requested now starts exactly there.
        if (shockRequested && snap.stepsDone < scenario.steps) {
          sim.triggerShock(snap.stepsDone);
          shockRequested = false;
        }
        roundEnds.push(snap.stepsDone);
        snap.policies.forEach((p, i) => {
          const t = tracks[i]!;
          t.cumulative.push(p.cumulativeRegret);
          t.roundClicks.push(p.roundClicks);
          t.roundRegret.push(p.roundRegret);
          demo.totalRegret[p.name] = p.cumulativeRegret;
        });
        const shockStep = sim.shockStep !== null && sim.shockStep < scenario.steps ? sim.shockStep : null;
        demo.stepsDone = snap.stepsDone;
        demo.rounds = snap.round;
        demo.shockStep = shockStep;
        if (shockStep !== null && shockStep <= snap.stepsDone) buttons.shock.disabled = true;
        progressBar.value = snap.stepsDone / scenario.steps;
        setStatus(`Step ${snap.stepsDone} of ${scenario.steps}${shockStep !== null && shockStep <= snap.stepsDone ? ` · the market shocked at step ${shockStep}` : ''}`);
        render(tracks, roundEnds, scenario.steps, ctrWindow, shockStep, snap.stepsDone);
        await yieldToPage();
      },
    });
    demo.shockStep = run.result.shockStep;
    demo.state = 'done';
    showFinal(run);
    setStatus(`Done: ${scenario.steps} steps in ${(run.totalMs / 1000).toFixed(1)} s on ${run.backend.split(' via ')[0]}.`);
  } catch (e) {
    if (controller.signal.aborted) {
      demo.state = 'stopped';
      setStatus(`Stopped at step ${demo.stepsDone}.`);
    } else {
      demo.state = 'error';
      demo.error = e instanceof Error ? e.message : String(e);
      showError(e);
      setStatus('Failed.');
    }
  } finally {
    buttons.start.disabled = false;
    buttons.stop.disabled = true;
    buttons.shock.disabled = true;
    controller = null;
  }
}

buttons.start.addEventListener('click', () => void start());
buttons.stop.addEventListener('click', () => controller?.abort(new Error('stopped by the user')));
buttons.shock.addEventListener('click', () => {
  shockRequested = true;
  buttons.shock.disabled = true;
  setStatus('Market shock requested: it starts with the next batch of users.');
});

// Find the adapter at once, so the page says what it runs on before Start is pressed.
void getBackend().catch(showError);
if (params.get('autostart') === '1') void start();
