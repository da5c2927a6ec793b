import { BanditError } from '../core/errors.js';

/**
 * One model's calls, run one after another: each starts when every call made before it has
 * settled (resolved or rejected), so it sees the state the previous one left, and a failed call
 * does not block the next. Once the model is disposed, new calls reject with BanditError.
 */
export class CallQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Queues `body`; `name` (e.g. 'LinUCB.select') goes into the error of a call after dispose. */
  run<T>(name: string, disposed: boolean, body: () => Promise<T>): Promise<T> {
    if (disposed) return Promise.reject(new BanditError(`${name}: the model has been disposed`));
    const next = this.tail.then(body, body);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
