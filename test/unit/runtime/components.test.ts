import { expect } from 'chai';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/log';
import { Components, once } from '../../../src/runtime/components';
import { RuntimeEvents } from '../../../src/runtime/events';

function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      raw.push(chunk.toString('utf8'));
      cb();
    },
  });
  return {
    logger: createLogger({ level: 'info', destination }),
    lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('Components', () => {
  it('stops what was started in reverse order, each step on its own: a failing stop does not skip the store', async () => {
    const { logger, lines } = capturingLogger();
    const components = new Components(logger);
    const order: string[] = [];
    const part = (name: string, fail = false) => ({
      name,
      start: () => void order.push(`start ${name}`),
      stop: () => {
        order.push(`stop ${name}`);
        if (fail) throw new Error(`${name} broke`);
      },
    });
    await components.start(part('store'));
    await components.start(part('worker', true));
    await components.start(part('server'));
    await components.stop();
    expect(order).to.deep.equal([
      'start store',
      'start worker',
      'start server',
      'stop server',
      'stop worker',
      'stop store',
    ]);
    const failure = lines().find((l) => l['component'] === 'worker');
    expect(failure?.['msg']).to.equal('a component failed to stop; stopping the rest');
  });

  it('returns the first stop()’s promise to every later call, and stops each component once', async () => {
    const { logger } = capturingLogger();
    const components = new Components(logger);
    let stops = 0;
    let release: () => void = () => undefined;
    await components.start({
      name: 'slow',
      start: () => undefined,
      stop: () =>
        new Promise<void>((resolve) => {
          stops += 1;
          release = resolve;
        }),
    });
    const first = components.stop();
    const second = components.stop();
    expect(second).to.equal(first);
    release();
    await first;
    await components.stop();
    expect(stops).to.equal(1);
  });

  it('does not stop a component whose start failed, and refuses to start once stopping', async () => {
    const { logger } = capturingLogger();
    const components = new Components(logger);
    let stopped = false;
    const failing = { name: 'broken', start: () => Promise.reject(new Error('no')), stop: () => void (stopped = true) };
    await components.start(failing).then(
      () => expect.fail('start should have failed'),
      (err: Error) => expect(err.message).to.equal('no'),
    );
    await components.stop();
    expect(stopped).to.equal(false);
    await components.start({ name: 'late', start: () => undefined, stop: () => undefined }).then(
      () => expect.fail('start after stop should fail'),
      (err: Error) => expect(err.message).to.contain('stopping'),
    );
  });

  it('once(): a second call returns the first call’s promise', async () => {
    let calls = 0;
    const stop = once(async () => {
      calls += 1;
      await Promise.resolve();
    });
    const a = stop();
    expect(stop()).to.equal(a);
    await a;
    expect(calls).to.equal(1);
  });
});

describe('RuntimeEvents', () => {
  it('delivers to every listener in order; one that throws is logged and the rest still run', () => {
    const { logger, lines } = capturingLogger();
    const events = new RuntimeEvents(logger);
    const heard: string[] = [];
    events.on('store.lost', ({ reason }) => heard.push(`a:${reason}`));
    events.on('store.lost', () => {
      throw new Error('listener bug');
    });
    const off = events.on('store.lost', ({ reason }) => heard.push(`c:${reason}`));
    events.emit('store.lost', { reason: 'gone' });
    off();
    events.emit('store.lost', { reason: 'again' });
    expect(heard).to.deep.equal(['a:gone', 'c:gone', 'a:again']);
    expect(lines().filter((l) => l['event'] === 'store.lost')).to.have.length(2);
  });
});
