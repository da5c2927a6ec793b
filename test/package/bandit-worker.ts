// The module worker the worker spec starts in Chromium (bundled to dist/test/bandit-worker.js).
import { serveBandits } from '../../src/index.js';

serveBandits();
