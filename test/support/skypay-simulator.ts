import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decryptBody, deriveAesKey, encryptBody } from '../../src/skypay/crypto';

/**
 * SkyPay's side of the 7.1 status query (payoutQueryStatus), as a real HTTP server: it decrypts each request with
 * the partner's encrypt key, checks userName, authentication and action, refuses more than 50 control numbers, and
 * answers encrypted from a table the test fills. It can be switched to answer slowly, with garbage, or with a
 * SkyPay error code, and it records every request it got. Written from status-query.md, not from src/.
 */

export interface SimulatorPartner {
  userName: string;
  authentication: string;
  encryptKey: string;
}

/** One row of the answer, as SkyPay would write it (strings or numbers: the test chooses). */
export type SimulatedPayout = Record<string, unknown> & { controlNumber: string };

export type SimulatorMode =
  | { kind: 'normal' }
  /** Waits this long before answering (the headers too). */
  | { kind: 'slow'; delayMs: number }
  /** Answers 200 with text that is neither ciphertext under the key nor JSON. */
  | { kind: 'garbage' }
  /**
   * Answers with this responseCode (e.g. "-9999") and no items: encrypted, or with `plain` as plain JSON, as a
   * gateway refusing the caller may.
   */
  | { kind: 'code'; code: string; description: string; plain?: boolean }
  /** Answers this HTTP status with a short text body. */
  | { kind: 'http'; status: number };

export interface SimulatorRequest {
  receivedAt: number;
  contentType: string;
  /** The decrypted JSON, when it decrypted. */
  body: Record<string, unknown> | undefined;
  /** What the simulator answered with (its responseCode, or the mode's name for garbage and HTTP errors). */
  answered: string;
}

export class SkyPaySimulator {
  readonly requests: SimulatorRequest[] = [];
  /** The answer table, by control number: a control number not in it is left out of the answer. */
  readonly payouts = new Map<string, SimulatedPayout>();
  mode: SimulatorMode = { kind: 'normal' };
  private readonly aesKey: Buffer;

  private constructor(
    private readonly server: http.Server,
    readonly partner: SimulatorPartner,
  ) {
    this.aesKey = deriveAesKey(partner.encryptKey);
  }

  static async start(partner: SimulatorPartner): Promise<SkyPaySimulator> {
    const server = http.createServer();
    const sim = new SkyPaySimulator(server, partner);
    server.on('request', (req, res) => void sim.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return sim;
  }

  /** SkyPay's URL shape: /services/{callerName}. */
  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/services/skyrelay-test`;
  }

  /** Puts rows in the answer table. */
  set(...rows: SimulatedPayout[]): void {
    for (const row of rows) this.payouts.set(row.controlNumber, row);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const plain = decryptBody(text, this.aesKey);
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = plain === undefined ? undefined : JSON.parse(plain);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        body = parsed as Record<string, unknown>;
      }
    } catch {
      body = undefined;
    }
    const record: SimulatorRequest = {
      receivedAt: Date.now(),
      contentType: req.headers['content-type'] ?? '',
      body,
      answered: '',
    };
    this.requests.push(record);
    const mode = this.mode;
    if (mode.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, mode.delayMs));
    if (res.destroyed) return;
    if (mode.kind === 'http') {
      record.answered = `http ${mode.status}`;
      res.writeHead(mode.status, { 'content-type': 'text/plain' }).end('Service Unavailable');
      return;
    }
    if (mode.kind === 'garbage') {
      record.answered = 'garbage';
      res.writeHead(200, { 'content-type': 'text/plain' }).end('<html>%%% not a SkyPay answer %%%</html>');
      return;
    }
    if (mode.kind === 'code') {
      this.answer(res, record, mode.code, mode.description, undefined, mode.plain);
      return;
    }
    const problem = this.check(body);
    if (problem) {
      this.answer(res, record, '-1000', problem);
      return;
    }
    const asked = (body?.['controlNumbers'] as { controlNumber: string }[]).map((c) => c.controlNumber);
    const items = asked.map((c) => this.payouts.get(c)).filter((row): row is SimulatedPayout => row !== undefined);
    this.answer(res, record, '1000', 'Success', items);
  }

  /** What SkyPay checks before answering; -1000 ("Post context is not valid") for anything wrong. */
  private check(body: Record<string, unknown> | undefined): string | undefined {
    if (!body) return 'Post context is not valid: the body does not decrypt to a JSON object';
    if (body['userName'] !== this.partner.userName) return 'Post context is not valid: unknown userName';
    if (body['authentication'] !== this.partner.authentication) {
      return 'Post context is not valid: wrong authentication';
    }
    if (body['action'] !== 'payoutQueryStatus') return 'Post context is not valid: unknown action';
    const list = body['controlNumbers'];
    if (!Array.isArray(list) || list.length === 0) return 'Post context is not valid: no controlNumbers';
    if (list.length > 50) return 'Post context is not valid: more than 50 controlNumbers';
    const valid = list.every(
      (c: unknown) =>
        typeof c === 'object' &&
        c !== null &&
        typeof (c as { controlNumber?: unknown }).controlNumber === 'string' &&
        /^[A-Za-z0-9]{13,15}$/.test((c as { controlNumber: string }).controlNumber),
    );
    return valid ? undefined : 'Post context is not valid: a controlNumber is not 13 to 15 characters';
  }

  private answer(
    res: http.ServerResponse,
    record: SimulatorRequest,
    code: string,
    description: string,
    items?: SimulatedPayout[],
    plain = false,
  ): void {
    record.answered = code;
    const reply = {
      responseTime: '2026-11-27 15:00:00.1234',
      responseCode: code,
      responseDescription: description,
      ...(items ? { controlNumbers: items } : {}),
    };
    const text = JSON.stringify(reply);
    res.writeHead(200, { 'content-type': 'text/plain' }).end(plain ? text : encryptBody(text, this.aesKey));
  }
}
