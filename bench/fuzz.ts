// The long fuzz run (the suite's test/fuzz/ runs a budget of the same cases): every bad call of
// every public method, every bad option, every call after dispose, N mutated saves a model and
// the non-awaited calls with reused buffers, on the cpu and webgpu backends, counted by class
// and outcome (test/fuzz/engine.ts says what each outcome means).
//
//   node dist/bench/fuzz.js                      everything, 600 save mutations a model
//   options: --saves N, --kinds webgpu,cpu, --subjects 'LinUCB,NeuralTS', --seed N,
//            --name BASE (default fuzz-<date>), --out DIR, --failures N (listed per backend, default 40),
//            --no-huge (leave out sizes of 1e9 and 2³¹), --trace (log each case before it runs),
//            --skip REGEX (cases that take the process down: counted as hangs, not run),
//            --classes calls,options,disposed,saves,concurrency (default all)
//
// Output: the counts on stdout, bench/results/<base>.json and <base>.md. Exit code 1 when any
// case broke the contract (anything but refused or valid).
import { createBackend, type Backend } from '../src/index.js';
import { CLASSES, GOOD, type Budget, type CaseClass, trace, OUTCOMES, count, emptyTally, freshLike, fuzzSubject, type CaseResult, type Tally } from '../test/fuzz/engine.js';
import { SUBJECTS, type SubjectName } from '../test/fuzz/subjects.js';
import { dateStamp, markdownTable, numberOption, option, resultsDir, runAsEntryPoint, runtimeInfo, textTable, writeResults } from './lib.js';

type Kind = 'webgpu' | 'cpu';

function tallyRows(tally: Tally): string[][] {
  return [
    ['class', 'cases', ...OUTCOMES],
    ...CLASSES.map((c) => [c, String(OUTCOMES.reduce((n, o) => n + tally[c][o], 0)), ...OUTCOMES.map((o) => String(tally[c][o]))]),
  ];
}

export async function main(argv: readonly string[]): Promise<number> {
  const saves = numberOption(argv, '--saves', 600);
  const seed = numberOption(argv, '--seed', 1);
  const listed = numberOption(argv, '--failures', 40);
  const kinds = (option(argv, '--kinds') ?? 'cpu,webgpu').split(',') as Kind[];
  const subjects = (option(argv, '--subjects')?.split(',') ?? SUBJECTS) as SubjectName[];
  if (argv.includes('--trace')) trace.log = (line) => console.log(`  … ${line}`);
  const classes = new Set((option(argv, '--classes')?.split(',') ?? CLASSES) as CaseClass[]);
  const budget: Budget = {
    calls: classes.has('calls') ? Infinity : 0, options: classes.has('options') ? Infinity : 0, saves: classes.has('saves') ? saves : 0,
    concurrency: classes.has('concurrency'), disposed: classes.has('disposed'), huge: !argv.includes('--no-huge'),
  };
  const skip = option(argv, '--skip');
  if (skip) trace.skip = new RegExp(skip);
  const date = new Date().toISOString();
  const report: { date: string; args: readonly string[]; saves: number; seed: number; backends: Record<string, { tally: Tally; seconds: number; failures: CaseResult[] }>; runtime: unknown } = {
    date, args: argv.slice(), saves, seed, backends: {}, runtime: await runtimeInfo(),
  };
  const md: string[] = [`# Fuzz run ${date}`, '', `${saves} save mutations a model, seed ${seed}; classes: ${[...classes].join(', ')}${budget.huge ? '' : ' (no huge sizes)'}; subjects: ${subjects.join(', ')}.`, ''];
  if (skip) md.push(`Not run, counted as hangs (--skip): \`${skip}\`.`, '');
  let broken = 0;
  for (const kind of kinds) {
    const backend: Backend = await createBackend({ kind });
    const t0 = Date.now();
    const results: CaseResult[] = [];
    for (const name of subjects) {
      const got = await fuzzSubject(name, backend, budget, seed, freshLike(backend));
      const bad = got.filter((r) => !GOOD.has(r.outcome)).length;
      console.log(`${kind} ${name}: ${got.length} cases, ${bad} broke the contract`);
      results.push(...got);
    }
    const seconds = Math.round((Date.now() - t0) / 100) / 10;
    const tally = count(emptyTally(), results);
    const failures = results.filter((r) => !GOOD.has(r.outcome));
    broken += failures.length;
    report.backends[kind] = { tally, seconds, failures };
    console.log(`\n${kind} (${seconds} s)`);
    for (const line of textTable(tallyRows(tally), 1)) console.log(line);
    md.push(`## ${kind} (${seconds} s)`, '', ...markdownTable(tallyRows(tally), 1), '');
    if (failures.length > 0) {
      md.push(`First ${Math.min(listed, failures.length)} of ${failures.length} cases that broke the contract:`, '');
      for (const f of failures.slice(0, listed)) md.push(`- ${f.outcome}: ${f.subject} ${f.cls} \`${f.what}\`: ${f.detail.replace(/\n/g, ' ')}`);
      md.push('');
    }
    backend.dispose();
  }
  const name = option(argv, '--name') ?? `fuzz-${dateStamp(date)}`;
  const files = await writeResults(await resultsDir(argv), name, report, md.join('\n'));
  console.log(`\nresults written to ${files.join(' and ')}`);
  return broken === 0 ? 0 : 1;
}

runAsEntryPoint('fuzz', main);
