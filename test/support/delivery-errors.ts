import { DeliveryError } from '../../src/destinations/types';

/** Awaits a send that must fail and returns its DeliveryError (fails the test otherwise). */
export async function catchDeliveryError(sending: Promise<unknown>): Promise<DeliveryError> {
  try {
    await sending;
  } catch (error) {
    if (error instanceof DeliveryError) return error;
    throw new Error(`expected a DeliveryError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the send to fail, but it succeeded');
}

/**
 * Everything of an error that could end up in a log: message, stack, own
 * properties and the whole cause chain. Tests search it for secrets.
 */
export function dumpError(error: unknown, depth = 0): string {
  if (!(error instanceof Error) || depth > 5) return String(error);
  const own = Object.fromEntries(Object.entries(error));
  return [error.message, error.stack ?? '', JSON.stringify(own), dumpError(error.cause, depth + 1)].join('\n');
}

/** Milliseconds `work` took to settle, and how it settled. */
export async function timeSettling<T>(work: Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const started = performance.now();
  const [result] = await Promise.allSettled([work]);
  return { ms: performance.now() - started, result: result as PromiseSettledResult<T> };
}
