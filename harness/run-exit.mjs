// Node programs that create and dispose webgpu backends and then let Node exit, each run as a
// child process many times (issue 11 items 7 and 8): every run must exit 0, print "done" and,
// where the library alone touched the GPU, nothing on stderr (no driver noise).
// Dawn frees its instance when the JS GPU object is collected while devices still poll it; the
// crash is timing-dependent (stdout to a file or /dev/null made it 10/10, a pipe hid it), so the
// runs alternate both, with and without VK_ICD_FILENAMES preset.
// Usage: node harness/run-exit.mjs [--rounds N]   (after a build)
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printResult } from './results.mjs';

const roundsAt = process.argv.indexOf('--rounds');
const rounds = roundsAt > 0 ? Number(process.argv[roundsAt + 1]) : 6;
const child = new URL('./exit-child.mjs', import.meta.url).pathname;
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const TIMEOUT_MS = 30_000;
/** Patterns where only the library makes the GPU objects: stderr must stay empty. */
const LIBRARY_ONLY = ['await-dispose', 'dispose-at-once', 'model-then-dispose', 'two-backends', 'no-dispose', 'dispose-then-gc'];
const PATTERNS = [...LIBRARY_ONLY, 'callers-device-gc'];

const dir = mkdtempSync(join(tmpdir(), 'webgpu-bandits-exit-'));

function runChild(pattern, { presetIcd, toFile }, timeoutMs = TIMEOUT_MS) {
  return new Promise((done) => {
    const env = { ...process.env };
    delete env.VK_ICD_FILENAMES;
    delete env.XDG_RUNTIME_DIR;
    if (presetIcd) env.VK_ICD_FILENAMES = SWIFTSHADER;
    const outFile = join(dir, `${pattern}-${Math.random().toString(36).slice(2)}.out`);
    const outFd = toFile ? openSync(outFile, 'w') : 'pipe';
    const p = spawn(process.execPath, ['--expose-gc', child, pattern], { env, stdio: ['ignore', outFd, 'pipe'] });
    if (toFile) closeSync(outFd);
    let stdout = '', stderr = '';
    p.stdout?.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      if (toFile) stdout = readFileSync(outFile, 'utf8');
      done({ code, signal, stdout, stderr });
    });
  });
}

const started = Date.now();
const jobs = [];
for (let r = 0; r < rounds; r++) {
  for (const pattern of PATTERNS) jobs.push({ pattern, presetIcd: r % 2 === 1, toFile: (r >> 1) % 2 === 0 });
}
let passes = 0;
const failed = [];
// Two at a time: the machine has two cores, and each child starts Dawn and SwiftShader.
async function worker() {
  for (let job = jobs.shift(); job; job = jobs.shift()) {
    const { code, signal, stdout, stderr } = await runChild(job.pattern, job);
    const how = `${job.pattern} (${job.presetIcd ? 'VK_ICD_FILENAMES preset' : 'no VK_ICD_FILENAMES'}, stdout to ${job.toFile ? 'a file' : 'a pipe'})`;
    const problems = [];
    if (code !== 0) problems.push(signal ? `killed by ${signal}` : `exit code ${code}`);
    if (stdout.trim() !== 'done') problems.push(`stdout ${JSON.stringify(stdout.slice(0, 200))}`);
    if (LIBRARY_ONLY.includes(job.pattern) && stderr.trim()) problems.push(`stderr ${JSON.stringify(stderr.slice(0, 300))}`);
    if (problems.length) {
      failed.push({ title: how, error: problems.join('; ') });
      console.log(`  ✗ ${how}: ${problems.join('; ')}`);
    } else {
      passes++;
      console.log(`  ✔ ${how}`);
    }
  }
}
const total = jobs.length;
await Promise.all([worker(), worker()]);

// The control: the caller's GPU object collected WITHOUT passing it to createBackend. Dawn's bug
// should crash or hang it; if it ever stops doing so, the hold in src/gpu/device.ts may be
// unneeded (reported, not counted: it proves the runs above can fail).
const control = await runChild('callers-device-gc-unheld', { presetIcd: true, toFile: true }, 15_000);
const controlCrashed = control.code !== 0;
console.log(
  `  control (caller's GPU collected, not given to createBackend): ${controlCrashed ? `crashed as expected (${control.signal ?? `exit code ${control.code}`})` : 'did NOT crash: Dawn may have fixed the instance lifetime'}`,
);
rmSync(dir, { recursive: true, force: true });
console.log(`${passes} of ${total} child runs exited cleanly in ${((Date.now() - started) / 1000).toFixed(0)} s`);
printResult({ runtime: 'node exit', adapter: `Dawn in ${total} child processes`, passes, failures: failed.length, pending: 0, failed });
process.exit(Math.min(failed.length, 255));
