// The LinUCB benchmark: select (contexts in → chosen arms out, readback included) and update (a
// batch of B rows) of the library's LinUCB on the webgpu backend and on the cpu (float64) backend,
// and of a plain-JS LinUCB (bench/peers/plain-linucb.ts), in the same process on the same data,
// over K arms × d dimensions × B rows a call. Also the drift check the library runs to control
// Sherman–Morrison error (measureDrift: ‖A·A⁻¹ − I‖∞ over every arm).
//
//   npm run bench:linucb                      the full grid (K 10…10000, d 8/32/64, B 1/64/256)
//   node dist/bench/linucb.js --quick         a subset in under a minute
//   options: --cap-s S (skip a call predicted over S seconds, default 10), --target-ms T (timed runs
//   a case, default 750), --K 10,100 --d 8 --B 1,64 (grid), --arms-per-shard N (split the
//   webgpu model as Chromium's 128 MiB binding would), --out DIR, --name BASE;
//   --render FILE.json writes FILE.md again from a results file.
//
// Method. Per (K, d) every peer is created (untimed: creation uploads K identity matrices), fed the
// same history of update rows, then checked: a few rounds of select on the same contexts, each
// followed by the same update; a peer that does not choose the reference's (webgpu's) arm, other
// than at a float64 near-tie, is refused and not timed. Per case and peer the first call is timed
// apart (pipeline compilation, JIT), then calls are repeated (at least 3, until the target time) and
// summarised by median, quartiles, min and max. Before running, a case's single-call time is
// predicted from its FLOPs and the peer's rate on the closest case measured (see RateBook); above
// the cap it is recorded as skipped with the prediction, never dropped. Wall clock, end to end
// (decisions per second include the readback; Chromium's SwiftShader has no timestamp queries
// anyway): each select awaits its readback, each update its queue. The machine is
// shared: the CPU share other processes took while a case was timed is recorded, and a case timed
// under load is timed again (CONTENTION_RETRY), the quietest set kept.
//
// The library's models run with refactorEvery = 0 and driftCheckEvery = 0, so update is the same
// work as the plain peer's (plus keeping A); the drift check is timed as its own case.
//
// Output: a table on stdout, bench/results/<base>.json (everything, samples included) and
// bench/results/<base>.md (tables for people).
import { LinUCB, type Backend } from '../src/index.js';
import {
  acquireBackends, backendInfo, createCpuMeter, dateStamp, loadAverage, markdownTable, message, option, resultsDir, roundSamples,
  runAsEntryPoint, runtimeInfo, stats, textTable, timeOnce, writeResults,
  CONTENTION_RETRY, MAX_RETRIES, RETRY_BUDGET_MS, fmtContention, fmtMs, fmtSi, numberOption, renderFromJson, timeQuietest, SyntheticBandit,
  type CaseResult, type CpuMeter, type RepPolicy, type RunnerResult,
} from './lib.js';
import { PlainLinUCB } from './peers/plain-linucb.js';

const ALPHA = 0.25;
const LAMBDA = 1;
/** Rounds of the agreement check, and rows a round: enough to see a systematic difference, cheap at K = 10⁴. */
const CHECK_ROUNDS = 3;
const CHECK_ROWS = 16;
/** Below this share of identical choices a peer is refused, near-ties or not. */
const MIN_AGREEMENT = 0.9;
/**
 * Float64 score gap under which two arms count as tied: f32 scores carry errors of a few
 * d·2⁻²⁴·|terms| (≈ 1e-5 at d = 64) plus the f32 Sherman–Morrison drift of the history.
 */
const NEAR_TIE = 1e-4;
/** History rows before the check: each arm played about twice, within [256, 4096]. */
const historyRows = (K: number): number => Math.min(4096, Math.max(256, 2 * K));
const HISTORY_BATCH = 256;
/** Distinct input batches a timed case cycles through. */
const POOL = 4;
const SEED = 20240601;
type Op = 'select' | 'update' | 'driftCheck';

/** One bandit implementation under test, created for one (K, d). */
interface Peer {
  select(x: Float32Array): Promise<Int32Array>;
  update(arms: Int32Array, x: Float32Array, rewards: Float32Array): Promise<void>;
  /** ‖A·A⁻¹ − I‖∞ over all arms, and whether that re-factorised (the drift passed the bound). */
  driftCheck?(): Promise<{ drift: number; refactored: boolean }>;
  dispose(): void;
}

interface PeerKind {
  readonly name: string;
  /** Bytes a state value takes: f32 on webgpu, float64 on cpu and in plain JS. */
  readonly valueBytes: number;
  create(K: number, d: number): Promise<Peer>;
}

function libraryPeer(name: string, backend: Backend | Error, valueBytes: number, armsPerShard?: number): PeerKind {
  return {
    name,
    valueBytes,
    async create(K, d) {
      if (backend instanceof Error) throw backend;
      const model = await LinUCB.create(backend, {
        arms: K, dim: d, alpha: ALPHA, lambda: LAMBDA, refactorEvery: 0, driftCheckEvery: 0,
        ...(armsPerShard ? { armsPerShard: Math.min(armsPerShard, K) } : {}),
      });
      return {
        select: (x) => model.select(x),
        update: (arms, x, r) => model.update(arms, x, r),
        async driftCheck() {
          const before = model.diagnostics().refactorizations;
          const drift = await model.measureDrift();
          return { drift, refactored: model.diagnostics().refactorizations > before };
        },
        dispose: () => model.dispose(),
      };
    },
  };
}

function plainPeer(): PeerKind & { model: PlainLinUCB | null } {
  const kind = {
    name: 'plain-js',
    valueBytes: 8,
    model: null as PlainLinUCB | null,
    async create(K: number, d: number): Promise<Peer> {
      const model = new PlainLinUCB(K, d, { alpha: ALPHA, lambda: LAMBDA });
      kind.model = model;
      return {
        select: async (x) => model.select(x),
        update: async (arms, x, r) => model.update(arms, x, r),
        dispose: () => {
          if (kind.model === model) kind.model = null;
        },
      };
    },
  };
  return kind;
}

// ---- what a case costs ----

const selectFlops = (K: number, d: number, B: number): number => B * K * (2 * d * d + 4 * d);
const updateFlops = (d: number, B: number): number => B * (6 * d * d + 4 * d);
const driftFlops = (K: number, d: number): number => K * 2 * d * d * d;
/** State read once (A⁻¹, θ) at the peer's width, contexts in (f32), chosen arms out (i32). */
const selectBytes = (K: number, d: number, B: number, valueBytes: number): number =>
  K * d * d * valueBytes + K * d * valueBytes + B * d * 4 + B * 4;
const driftBytes = (K: number, d: number, valueBytes: number): number => 2 * K * d * d * valueBytes + K * 4;

const COUNTING = {
  selectFlops: 'B·K·(2d² + 4d): z = A⁻¹x, xᵀz and θᵀx per arm and row (sqrt and argmax not counted)',
  selectBytes:
    'K·d²·w (A⁻¹) + K·d·w (θ) + B·d·4 (contexts in) + B·4 (arms out), w = 4 on webgpu (f32), 8 on cpu and plain-js ' +
    '(float64): the state read once. Not counted: the B×K score matrix the webgpu model writes and its argmax reads ' +
    '(2·B·K·4), re-reads of A⁻¹ per row tile, uploads of per-call buffers.',
  updateFlops: 'B·(6d² + 4d): A⁻¹x, the rank-1 downdate of A⁻¹ and θ = A⁻¹b per row (the library also adds xxᵀ to A: +2d²)',
  driftCheckFlops: 'K·2d³: A·A⁻¹ for every arm',
  driftCheckBytes: '2·K·d²·w (A and A⁻¹) + K·4 (the per-arm drift read back)',
  perSecond: 'decisions (select) or update rows (update) per second: B / median time',
};

// ---- running ----

export interface LinUCBBenchOptions {
  readonly grid: { readonly K: readonly number[]; readonly d: readonly number[]; readonly B: readonly number[] };
  /** A call predicted (or, in its first run, measured) over this is not repeated, ms. */
  readonly capMs: number;
  readonly reps: RepPolicy;
  readonly armsPerShard?: number;
  readonly quick: boolean;
  readonly log?: (line: string) => void;
}

interface AgreementResult {
  readonly rows: number;
  readonly same: number;
  /** Rows where the choice differed at a float64 near-tie (gap ≤ NEAR_TIE). */
  readonly nearTies: number;
  /** Largest float64 score gap between the two choices over the differing rows. */
  readonly worstGap: number;
  /** Distinct arms the reference chose over the check rows: the check means little if it is 1. */
  readonly distinctChoices: number;
  readonly ok: boolean;
}

interface SetupResult {
  readonly K: number;
  readonly d: number;
  readonly historyRows: number;
  readonly runners: readonly {
    readonly runner: string;
    readonly setupMs?: number;
    readonly historyMs?: number;
    readonly agreement?: AgreementResult;
    readonly error?: string;
  }[];
}

export interface LinUCBReport {
  readonly suite: 'linucb';
  readonly formatVersion: 1;
  readonly date: string;
  readonly quick: boolean;
  readonly backends: Readonly<Record<string, unknown>>;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly counting: Readonly<Record<string, string>>;
  readonly setups: readonly SetupResult[];
  readonly cases: readonly CaseResult[];
  readonly failures: number;
  readonly skipped: number;
  readonly totalSeconds: number;
  /** os.loadavg() (1, 5, 15 min) when the run started and ended. */
  readonly loadAverage: { readonly start: readonly number[]; readonly end: readonly number[] };
}

/**
 * Measured rates per peer and op, to predict a larger case's time before running it. The closest
 * measured case wins: same d and B (time then grows with K alone), else same d, else any; among
 * those the one with the most FLOPs (the least dominated by fixed per-call costs).
 */
class RateBook {
  private readonly best = new Map<string, { flops: number; ms: number; name: string }>();
  private static keys(peer: string, op: Op, d: number, B: number): string[] {
    return [`${peer}|${op}|${d}|${B}`, `${peer}|${op}|${d}`, `${peer}|${op}`];
  }
  record(peer: string, op: Op, d: number, B: number, flops: number, ms: number, name: string): void {
    for (const key of RateBook.keys(peer, op, d, B)) {
      const prev = this.best.get(key);
      if (!prev || flops >= prev.flops) this.best.set(key, { flops, ms, name });
    }
  }
  /** Predicted ms of one call, or null when nothing comparable was measured yet. */
  predict(peer: string, op: Op, d: number, B: number, flops: number): { ms: number; from: string } | null {
    for (const key of RateBook.keys(peer, op, d, B)) {
      const ref = this.best.get(key);
      if (ref) return { ms: (flops * ref.ms) / ref.flops, from: ref.name };
    }
    return null;
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Runs the grid; never throws for a failing peer or case (they are reported in the result). */
export async function runLinUCBBench(options: LinUCBBenchOptions): Promise<LinUCBReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const started = performance.now();
  const loadAtStart = await loadAverage();
  const { gpu, cpu } = await acquireBackends();
  log(`webgpu: ${gpu instanceof Error ? `unavailable (${message(gpu)})` : gpu.info.summary}`);
  const plain = plainPeer();
  const kinds: PeerKind[] = [
    libraryPeer('webgpu', gpu, 4, options.armsPerShard),
    libraryPeer('cpu', cpu, 8),
    plain,
  ];
  const rates = new RateBook();
  const meter = await createCpuMeter();
  const setups: SetupResult[] = [];
  const cases: CaseResult[] = [];
  const { K: Ks, d: ds, B: Bs } = options.grid;

  for (const K of Ks) {
    for (const d of ds) {
      log(`\nK = ${K}, d = ${d}`);
      const env = new SyntheticBandit(K, d, SEED);
      const peers = new Map<string, Peer>();
      const refused = new Map<string, string>();
      const setupRows: SetupResult['runners'][number][] = [];
      const setupOf = new Map<string, { setupMs?: number; historyMs?: number; agreement?: AgreementResult; error?: string }>();
      for (const kind of kinds) {
        const t = performance.now();
        try {
          peers.set(kind.name, await kind.create(K, d));
          setupOf.set(kind.name, { setupMs: performance.now() - t });
        } catch (e) {
          refused.set(kind.name, `setup failed: ${message(e)}`);
          setupOf.set(kind.name, { error: message(e) });
        }
      }
      try {
        // The same history for every peer, so their states (and choices) should match.
        const H = historyRows(K);
        const batches: [Int32Array, Float32Array, Float32Array][] = [];
        for (let done = 0; done < H; done += HISTORY_BATCH) {
          const rows = Math.min(HISTORY_BATCH, H - done);
          const arms = env.randomArms(rows), x = env.contexts(rows);
          batches.push([arms, x, env.rewards(arms, x)]);
        }
        for (const [name, peer] of peers) {
          const t = performance.now();
          try {
            for (const [arms, x, r] of batches) await peer.update(arms, x, r);
            setupOf.get(name)!.historyMs = performance.now() - t;
          } catch (e) {
            refused.set(name, `history update failed: ${message(e)}`);
            setupOf.get(name)!.error = message(e);
          }
        }
        await checkAgreement(env, peers, refused, setupOf, plain, log);
        for (const kind of kinds) setupRows.push({ runner: kind.name, ...setupOf.get(kind.name)! });
        setups.push({ K, d, historyRows: H, runners: setupRows });

        const runCase = async (
          op: Op, B: number, flops: number, make: (peer: Peer) => (() => Promise<unknown>) | null,
          bytesOf: (kind: PeerKind) => number | undefined,
        ): Promise<void> => {
          const name = op === 'driftCheck' ? `driftCheck K=${K} d=${d}` : `${op} K=${K} d=${d} B=${B}`;
          const runners: RunnerResult[] = [];
          for (const kind of kinds) {
            const peer = peers.get(kind.name);
            const run = peer && make(peer);
            if (run === null) continue; // the peer has no such op
            const result = await timePeer({
              runner: kind.name, run, refusal: refused.get(kind.name), op, d, B, flops, name, bytes: bytesOf(kind), rates, meter,
              capMs: options.capMs, reps: options.reps,
            });
            runners.push(result);
            log(describe(name, result));
          }
          cases.push({ name, op, shape: op === 'driftCheck' ? { K, d } : { K, d, B }, flops, runners });
        };

        // The drift check first: the history leaves the drift under the bound, so no re-factorisation follows.
        let refactors = 0;
        await runCase('driftCheck', 0, driftFlops(K, d), (peer) => peer.driftCheck
          ? async () => {
            if ((await peer.driftCheck!()).refactored) refactors++;
          }
          : null, (kind) => driftBytes(K, d, kind.valueBytes));
        if (refactors > 0) log(`  (note: ${refactors} drift check(s) passed the bound and re-factorised)`);

        for (const B of Bs) {
          const pool = Array.from({ length: POOL }, () => env.contexts(B));
          await runCase('select', B, selectFlops(K, d, B), (peer) => {
            let i = 0;
            return () => peer.select(pool[i++ % POOL]!);
          }, (kind) => selectBytes(K, d, B, kind.valueBytes));
        }
        // Updates last: they change the state the check above saw.
        for (const B of Bs) {
          const pool = Array.from({ length: POOL }, () => {
            const arms = env.randomArms(B), x = env.contexts(B);
            return [arms, x, env.rewards(arms, x)] as const;
          });
          await runCase('update', B, updateFlops(d, B), (peer) => {
            let i = 0;
            return () => {
              const [arms, x, r] = pool[i++ % POOL]!;
              return peer.update(arms, x, r);
            };
          }, () => undefined);
        }
      } finally {
        for (const peer of peers.values()) peer.dispose();
      }
    }
  }
  if (!(gpu instanceof Error)) gpu.dispose();
  cpu.dispose();
  const all = cases.flatMap((c) => c.runners);
  return {
    suite: 'linucb',
    formatVersion: 1,
    date: new Date().toISOString(),
    quick: options.quick,
    backends: { webgpu: backendInfo(gpu), cpu: cpu.info, 'plain-js': { kind: 'plain-js', summary: 'plain JS, Float64Array (bench/peers/plain-linucb.ts)' } },
    settings: {
      grid: options.grid, capMs: options.capMs, reps: options.reps, alpha: ALPHA, lambda: LAMBDA,
      libraryModel: { refactorEvery: 0, driftCheckEvery: 0, ...(options.armsPerShard ? { armsPerShard: options.armsPerShard } : {}) },
      history: 'min(4096, max(256, 2K)) rows, uniform random arms, unit contexts, reward θ*ᵀx + U(-0.1, 0.1)',
      check: { rounds: CHECK_ROUNDS, rows: CHECK_ROWS, minAgreement: MIN_AGREEMENT, nearTie: NEAR_TIE, reference: 'webgpu' },
      contention: { retryAbove: CONTENTION_RETRY, maxRetries: MAX_RETRIES, retryBudgetMs: RETRY_BUDGET_MS },
      inputs: `each timed case cycles through ${POOL} pre-generated batches; update arms uniform over K`,
    },
    counting: COUNTING,
    setups,
    cases,
    failures: all.filter((r) => !r.ok && !r.skipped).length,
    skipped: all.filter((r) => r.skipped).length,
    totalSeconds: (performance.now() - started) / 1000,
    loadAverage: { start: loadAtStart, end: await loadAverage() },
  };
}

interface TimedRun {
  readonly runner: string;
  /** The call to time; undefined when the peer could not be created. */
  readonly run: (() => Promise<unknown>) | undefined;
  readonly refusal: string | undefined;
  readonly op: Op;
  readonly d: number;
  readonly B: number;
  readonly flops: number;
  readonly name: string;
  readonly bytes: number | undefined;
  readonly rates: RateBook;
  readonly meter: CpuMeter;
  readonly capMs: number;
  readonly reps: RepPolicy;
}

/** Times one peer on one case: predicted over the cap → skipped; else the first call, then repeated calls. */
async function timePeer(t: TimedRun): Promise<RunnerResult> {
  const { runner, run, op, d, B, flops, name, bytes, rates, capMs } = t;
  if (!run) return { runner, ok: false, error: t.refusal ?? 'not created' };
  if (t.refusal) return { runner, ok: false, skipped: t.refusal };
  const predicted = rates.predict(runner, op, d, B, flops);
  const estimate = predicted ? { estimateMs: predicted.ms } : {};
  if (predicted && predicted.ms > capMs) {
    return {
      runner, ok: false, ...estimate,
      skipped: `predicted ${seconds(predicted.ms)} a call (rate of ${predicted.from}), over the ${seconds(capMs)} cap`,
    };
  }
  try {
    const firstMs = await timeOnce(run);
    if (firstMs > capMs) {
      rates.record(runner, op, d, B, flops, firstMs, name);
      return { runner, ok: false, firstMs, ...estimate, skipped: `first call took ${seconds(firstMs)}, over the ${seconds(capMs)} cap: not repeated` };
    }
    const { samples, share, retries } = await timeQuietest(run, t.reps, t.meter);
    const ms = stats(samples);
    rates.record(runner, op, d, B, flops, ms.median, name);
    return {
      runner, ok: true, firstMs, ms, reps: samples.length, samples: roundSamples(samples),
      ...(share === null ? {} : { contention: Math.round(share * 1000) / 1000 }),
      ...(retries ? { retries } : {}),
      gflops: flops / (ms.median * 1e6),
      ...(op === 'driftCheck' ? {} : { perSecond: B / (ms.median / 1000) }),
      ...(bytes === undefined ? {} : { bytes, gbPerSec: bytes / (ms.median * 1e6) }),
      ...estimate,
    };
  } catch (e) {
    return { runner, ok: false, error: message(e) };
  }
}

/**
 * Rounds of select on the same contexts, compared with the first live peer (webgpu when there is
 * one), each followed by the same update (the reference's choices). A difference counts as a
 * near-tie when the float64 scores of the two arms (plain JS model) differ by ≤ NEAR_TIE.
 */
async function checkAgreement(
  env: SyntheticBandit, peers: Map<string, Peer>, refused: Map<string, string>,
  setupOf: Map<string, { agreement?: AgreementResult }>, plain: { model: PlainLinUCB | null }, log: (line: string) => void,
): Promise<void> {
  const live = [...peers.keys()].filter((n) => !refused.has(n));
  const reference = live[0];
  if (!reference) return;
  const tally = new Map(live.slice(1).map((n) => [n, { rows: 0, same: 0, nearTies: 0, worstGap: 0 }]));
  const choices = new Set<number>();
  for (let round = 0; round < CHECK_ROUNDS; round++) {
    const x = env.contexts(CHECK_ROWS);
    let chosen: Int32Array;
    try {
      chosen = await peers.get(reference)!.select(x);
    } catch (e) {
      refused.set(reference, `select failed in the agreement check: ${message(e)}`);
      return;
    }
    for (const a of chosen) choices.add(a);
    for (const [name, t] of tally) {
      if (refused.has(name)) continue;
      try {
        const got = await peers.get(name)!.select(x);
        for (let i = 0; i < CHECK_ROWS; i++) {
          t.rows++;
          if (got[i] === chosen[i]) {
            t.same++;
            continue;
          }
          const m = plain.model;
          const gap = m ? Math.abs(m.score(got[i]!, x, i) - m.score(chosen[i]!, x, i)) : Infinity;
          if (gap <= NEAR_TIE) t.nearTies++;
          t.worstGap = Math.max(t.worstGap, gap);
        }
      } catch (e) {
        refused.set(name, `select failed in the agreement check: ${message(e)}`);
      }
    }
    const rewards = env.rewards(chosen, x);
    for (const name of live) {
      if (refused.has(name)) continue;
      try {
        await peers.get(name)!.update(chosen, x, rewards);
      } catch (e) {
        refused.set(name, `update failed in the agreement check: ${message(e)}`);
      }
    }
  }
  for (const [name, t] of tally) {
    const share = t.rows ? t.same / t.rows : 0;
    const ok = t.rows > 0 && share >= MIN_AGREEMENT && t.same + t.nearTies === t.rows;
    setupOf.get(name)!.agreement = { ...t, distinctChoices: choices.size, ok };
    log(`  agreement ${name} vs ${reference}: ${t.same}/${t.rows} same arm (${choices.size} distinct), ${t.nearTies} near-ties, ` +
      `worst gap ${t.worstGap.toExponential(2)}${ok ? '' : '  REFUSED'}`);
    if (!ok && !refused.has(name)) {
      refused.set(name, `refused: chose ${reference}'s arm in ${t.same} of ${t.rows} check rows (${t.rows - t.same - t.nearTies} not at a near-tie, worst float64 score gap ${t.worstGap.toExponential(2)})`);
    }
  }
}

// ---- reporting ----

const fmtBytes = (b: number): string => `${fmtSi(b)}B`;

function describe(name: string, r: RunnerResult): string {
  const head = `  ${name.padEnd(26)} ${r.runner.padEnd(8)}`;
  if (r.skipped) return `${head} skipped: ${r.skipped}`;
  if (!r.ok || !r.ms) return `${head} FAILED: ${r.error ?? ''}`;
  return `${head} first ${fmtMs(r.firstMs!).padStart(7)} ms  median ${fmtMs(r.ms.median).padStart(7)} ms  ` +
    `IQR ${fmtMs(r.ms.q1)}–${fmtMs(r.ms.q3)}  ×${r.reps}` +
    (r.contention !== undefined ? `  others ${fmtContention(r)}` : '') +
    (r.perSecond !== undefined ? `  ${fmtSi(r.perSecond)}/s` : '') +
    (r.gbPerSec !== undefined ? `  ${r.gbPerSec.toFixed(3)} GB/s` : '');
}

const HEADER = [
  'op', 'K', 'd', 'B', 'runner', 'first ms', 'median ms', 'IQR ms', 'min–max ms', 'reps', 'others CPU', 'decisions/s', 'bytes/call',
  'GB/s', '× plain-js', 'note',
];

/** One row per case and runner: every number the JSON summarises. */
function detailRows(report: LinUCBReport, shortNotes: boolean): string[][] {
  const rows: string[][] = [HEADER];
  for (const c of report.cases) {
    const plainMs = c.runners.find((r) => r.runner === 'plain-js' && r.ok)?.ms?.median;
    for (const r of c.runners) {
      const shape = [c.op ?? '', String(c.shape['K']), String(c.shape['d']), c.op === 'driftCheck' ? '–' : String(c.shape['B'])];
      if (!r.ok || !r.ms) {
        const why = r.skipped ? `skipped: ${r.skipped}` : `FAILED: ${r.error ?? ''}`;
        rows.push([...shape, r.runner, r.firstMs === undefined ? '' : fmtMs(r.firstMs), '', '', '', '', '', '', '', '', '',
          shortNotes && why.length > 90 ? `${why.slice(0, 89)}…` : why]);
        continue;
      }
      rows.push([
        ...shape, r.runner, fmtMs(r.firstMs!), fmtMs(r.ms.median), `${fmtMs(r.ms.q1)}–${fmtMs(r.ms.q3)}`,
        `${fmtMs(r.ms.min)}–${fmtMs(r.ms.max)}`, String(r.reps), fmtContention(r), r.perSecond === undefined ? '' : fmtSi(r.perSecond),
        r.bytes === undefined ? '' : fmtBytes(r.bytes), r.gbPerSec === undefined ? '' : r.gbPerSec.toFixed(3),
        plainMs === undefined ? '' : `${(plainMs / r.ms.median).toFixed(2)}`, '',
      ]);
    }
  }
  return rows;
}

/** Decisions per second side by side, one row per (K, d, B), for `op`. */
function pivotRows(report: LinUCBReport, op: Op, runners: readonly string[]): string[][] {
  const rows: string[][] = [['K', 'd', 'B', ...runners.map((r) => `${r} /s`), 'webgpu ÷ plain-js', 'webgpu ÷ cpu']];
  for (const c of report.cases.filter((x) => x.op === op)) {
    const rate = (name: string) => c.runners.find((r) => r.runner === name && r.ok)?.perSecond;
    const cell = (name: string) => {
      const r = c.runners.find((x) => x.runner === name);
      const v = rate(name);
      return v !== undefined ? fmtSi(v) : r?.skipped ? 'skipped' : r ? 'failed' : '';
    };
    const ratio = (a: string, b: string) => {
      const x = rate(a), y = rate(b);
      return x !== undefined && y !== undefined ? (x / y).toFixed(2) : '';
    };
    rows.push([String(c.shape['K']), String(c.shape['d']), String(c.shape['B']), ...runners.map(cell),
      ratio('webgpu', 'plain-js'), ratio('webgpu', 'cpu')]);
  }
  return rows;
}

/** The markdown page of a report (as written to JSON, runtime included). */
export function renderMarkdown(report: LinUCBReport & { readonly runtime: Record<string, string | number> }): string {
  const runtime = report.runtime;
  const gpu = report.backends['webgpu'] as { summary?: string; error?: string; adapter?: Record<string, unknown> };
  const runners = ['webgpu', 'cpu', 'plain-js'];
  const s = report.settings as { capMs: number; reps: RepPolicy };
  const lines = [
    `# LinUCB benchmark — ${report.date.slice(0, 10)}${report.quick ? ' (--quick)' : ''}`,
    '',
    `- adapter: ${gpu.summary ?? `webgpu unavailable (${gpu.error})`}`,
    `- runtime: Node ${runtime['version']} on ${runtime['platform']}/${runtime['arch']}, ${runtime['cpus']} CPUs (${runtime['cpuModel']})`,
    `- peers in one process on the same data: the library's \`LinUCB\` on the webgpu backend (f32) and on the cpu backend (float64), and plain JS (Float64Array, Sherman–Morrison; \`bench/peers/plain-linucb.ts\`)`,
    `- method: first call timed apart (compile/warm-up); then ≥ ${s.reps.minReps} calls until ${s.reps.targetMs} ms (≤ ${s.reps.maxReps}); median and quartiles; wall clock; a call predicted over ${seconds(s.capMs)} is skipped`,
    `- others CPU: the share of the machine's CPU time other processes used while a case was timed (this machine is shared); above ${CONTENTION_RETRY * 100}% a case was timed again (at most ${MAX_RETRIES} more sets, while a set took under ${seconds(RETRY_BUDGET_MS)}) and the quietest set kept`,
    `- library models with refactorEvery = 0, driftCheckEvery = 0 (drift control timed apart as driftCheck); α = ${ALPHA}, λ = ${LAMBDA}`,
    `- ${report.failures} failed, ${report.skipped} skipped; ${report.totalSeconds.toFixed(0)} s in all; load average ${report.loadAverage.start.join(' ')} at the start, ${report.loadAverage.end.join(' ')} at the end (${runtime['cpus']} CPUs)`,
    '',
    '## Select: decisions per second',
    '',
    ...markdownTable(pivotRows(report, 'select', runners), 3),
    '',
    '## Update: rows per second',
    '',
    ...markdownTable(pivotRows(report, 'update', runners), 3),
    '',
    '## Agreement check (before timing)',
    '',
    ...markdownTable([
      ['K', 'd', 'runner', 'same arm', 'distinct arms', 'near-ties', 'worst gap', 'verdict'],
      ...report.setups.flatMap((st) => st.runners.filter((r) => r.agreement || r.error).map((r) => [
        String(st.K), String(st.d), r.runner,
        r.agreement ? `${r.agreement.same}/${r.agreement.rows}` : '', r.agreement ? String(r.agreement.distinctChoices) : '',
        r.agreement ? String(r.agreement.nearTies) : '',
        r.agreement ? r.agreement.worstGap.toExponential(1) : '', r.error ? `error: ${r.error}` : r.agreement!.ok ? 'timed' : 'refused',
      ])),
    ], 3),
    '',
    '## Every case',
    '',
    ...markdownTable(detailRows(report, false), 5),
    '',
    '## What is counted',
    '',
    ...Object.entries(report.counting).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '## Setup (untimed above)',
    '',
    ...markdownTable([
      ['K', 'd', 'runner', 'create ms', 'history ms'],
      ...report.setups.flatMap((st) => st.runners.map((r) => [String(st.K), String(st.d), r.runner,
        r.setupMs === undefined ? '' : fmtMs(r.setupMs), r.historyMs === undefined ? '' : fmtMs(r.historyMs)])),
    ], 3),
    '',
  ];
  return lines.join('\n');
}

const FULL_GRID = { K: [10, 100, 1000, 10000], d: [8, 32, 64], B: [1, 64, 256] };
const QUICK_GRID = { K: [10, 1000], d: [8, 32], B: [1, 64] };

function listOption(argv: readonly string[], name: string): number[] | undefined {
  const v = option(argv, name);
  if (v === undefined) return undefined;
  const list = v.split(',').map(Number);
  if (list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`${name} takes positive integers, got ${v}`);
  return list;
}

/** The LinUCB bench from the command line (see the top of this file); returns the exit code (1 if a runner failed). */
export async function main(argv: readonly string[]): Promise<number> {
  const render = option(argv, '--render');
  if (render) {
    await renderFromJson(render, renderMarkdown);
    return 0;
  }
  const quick = argv.includes('--quick');
  const base = quick ? QUICK_GRID : FULL_GRID;
  const grid = { K: listOption(argv, '--K') ?? base.K, d: listOption(argv, '--d') ?? base.d, B: listOption(argv, '--B') ?? base.B };
  const capMs = numberOption(argv, '--cap-s', quick ? 2 : 10) * 1000;
  const targetMs = numberOption(argv, '--target-ms', quick ? 200 : 750);
  const armsPerShard = option(argv, '--arms-per-shard');
  const log = (line: string) => console.log(line);
  const report = await runLinUCBBench({
    grid, capMs, reps: { minReps: 3, maxReps: 200, targetMs }, quick, log,
    ...(armsPerShard ? { armsPerShard: numberOption(argv, '--arms-per-shard', 1) } : {}),
  });
  log('');
  for (const line of textTable(detailRows(report, true), 5)) log(line);
  const runtime = await runtimeInfo();
  const name = option(argv, '--name') ?? `linucb-${dateStamp(report.date)}-node${process.versions.node.split('.')[0]}${quick ? '-quick' : ''}`;
  const full = { ...report, runtime };
  const files = await writeResults(await resultsDir(argv), name, full, renderMarkdown(full));
  log(`\n${report.failures} failed, ${report.skipped} skipped, ${report.totalSeconds.toFixed(0)} s; results written to ${files.join(' and ')}`);
  return report.failures > 0 ? 1 : 0;
}

runAsEntryPoint('linucb', main);
