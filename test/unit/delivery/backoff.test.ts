import assert from 'node:assert/strict';
import { decideAfterFailure, nextDelay, type RetryPolicy } from '../../../src/delivery/backoff';

const policy: RetryPolicy = { maxAttempts: 8, initialBackoffMs: 1000, maxBackoffMs: 60_000 };
const low = () => 0;
const high = () => 1;
const mid = () => 0.5;

describe('delivery/backoff', () => {
  describe('nextDelay', () => {
    it('doubles the base with each attempt until the cap', () => {
      const bases = [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => nextDelay(attempt, policy, high));
      assert.deepEqual(bases, [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
    });

    it('stays within [base/2, base] (equal jitter)', () => {
      assert.equal(nextDelay(3, policy, low), 2000);
      assert.equal(nextDelay(3, policy, mid), 3000);
      assert.equal(nextDelay(3, policy, high), 4000);
      for (let attempt = 1; attempt <= 12; attempt++) {
        const base = Math.min(60_000, 1000 * 2 ** (attempt - 1));
        for (let i = 0; i < 50; i++) {
          const delay = nextDelay(attempt, policy);
          assert.ok(delay >= base / 2 && delay <= base, `attempt ${attempt}: ${delay} outside [${base / 2}, ${base}]`);
        }
      }
    });

    it('never exceeds maxBackoffMs, even for huge attempts', () => {
      for (const attempt of [20, 60, 1024, 10_000, Number.MAX_SAFE_INTEGER]) {
        const delay = nextDelay(attempt, policy, high);
        assert.equal(delay, 60_000);
        assert.equal(nextDelay(attempt, policy, low), 30_000);
      }
    });

    it('is deterministic with an injected random', () => {
      const seq = [0.1, 0.9, 0.1, 0.9];
      const make = () => {
        let i = 0;
        return () => seq[i++ % seq.length]!;
      };
      const a = [1, 2, 3, 4].map((n) => nextDelay(n, policy, make()));
      const b = [1, 2, 3, 4].map((n) => nextDelay(n, policy, make()));
      assert.deepEqual(a, b);
      assert.equal(
        nextDelay(2, policy, () => 0.25),
        1250,
      );
    });

    it('keeps bounds when random misbehaves', () => {
      assert.equal(
        nextDelay(1, policy, () => 7),
        1000,
      );
      assert.equal(
        nextDelay(1, policy, () => Number.NaN),
        500,
      );
    });
  });

  describe('decideAfterFailure', () => {
    it('retries with the jittered delay', () => {
      assert.deepEqual(decideAfterFailure({ attempt: 2, retryable: true, error: 'HTTP 503' }, policy, high), {
        kind: 'retry',
        delayMs: 2000,
      });
    });

    it('honours a Retry-After longer than the backoff', () => {
      const verdict = decideAfterFailure(
        { attempt: 1, retryable: true, retryAfterMs: 30_000, error: 'HTTP 429' },
        policy,
        low,
      );
      assert.deepEqual(verdict, { kind: 'retry', delayMs: 30_000 });
    });

    it('keeps the backoff when Retry-After is shorter', () => {
      const verdict = decideAfterFailure(
        { attempt: 4, retryable: true, retryAfterMs: 10, error: 'HTTP 429' },
        policy,
        low,
      );
      assert.deepEqual(verdict, { kind: 'retry', delayMs: 4000 });
    });

    it('caps a Retry-After beyond maxBackoffMs', () => {
      const verdict = decideAfterFailure(
        { attempt: 1, retryable: true, retryAfterMs: 3_600_000, error: 'HTTP 503' },
        policy,
        low,
      );
      assert.deepEqual(verdict, { kind: 'retry', delayMs: 60_000 });
    });

    it('is dead after maxAttempts', () => {
      assert.equal(decideAfterFailure({ attempt: 7, retryable: true, error: 'ECONNRESET' }, policy, low).kind, 'retry');
      const verdict = decideAfterFailure({ attempt: 8, retryable: true, error: 'ECONNRESET' }, policy, low);
      assert.deepEqual(verdict, { kind: 'dead', reason: 'gave up after 8 attempts: ECONNRESET' });
    });

    it('is dead at once on a permanent failure', () => {
      const verdict = decideAfterFailure({ attempt: 1, retryable: false, error: 'HTTP 404' }, policy, low);
      assert.equal(verdict.kind, 'dead');
      if (verdict.kind === 'dead') {
        assert.match(verdict.reason, /permanent.*HTTP 404/);
      }
    });
  });
});
