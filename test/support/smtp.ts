import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerError } from 'smtp-server';
import { parseMail } from './mime';
import { Recorder } from './wait';
import type { ParsedMail } from './mime';

/**
 * A real SMTP server on 127.0.0.1 (plain text, no STARTTLS) that collects
 * what it is sent and can refuse messages with a chosen reply code.
 *
 *   const smtp = await startSmtpServer({ user: 'relay', pass: 's3cret' });
 *   ... send with transport smtp.url ...
 *   const [mail] = await smtp.waitFor(1);
 *   mail.parsed.subject; mail.envelope.to; mail.raw
 */

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  /** The message as sent, headers and body. */
  raw: string;
  parsed: ParsedMail;
  /** The user that logged in, if any. */
  user?: string | undefined;
}

export type SmtpMode =
  | { kind: 'accept' }
  /** Refuse after DATA with this code: 550 is permanent, 451 temporary. */
  | { kind: 'reject'; code: number; message?: string }
  /** Accept the connection but never greet (until close()). */
  | { kind: 'silent' };

export type MailPredicate = (mails: readonly ReceivedMail[]) => boolean;

export interface SmtpServerHandle {
  readonly host: string;
  readonly port: number;
  /** `smtp://user:pass@127.0.0.1:port` (credentials only if configured). */
  readonly url: string;
  readonly messages: readonly ReceivedMail[];
  /** Every connection attempt, accepted or not; lets tests wait for a silent server to be reached. */
  readonly connections: number;
  setMode(mode: SmtpMode): void;
  waitFor(condition: number | MailPredicate, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export interface SmtpServerOptions {
  /** When set, AUTH is required with exactly these credentials. */
  user?: string;
  pass?: string;
}

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<SmtpServerHandle> {
  const recorder = new Recorder<ReceivedMail>('smtp');
  const messages = recorder.items;
  let mode: SmtpMode = { kind: 'accept' };
  let connections = 0;
  const requireAuth = options.user !== undefined;

  const server = new SMTPServer({
    secure: false,
    disabledCommands: requireAuth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !requireAuth,
    allowInsecureAuth: true,
    logger: false,
    onConnect(_session, callback) {
      connections++;
      // Silent mode keeps the callback pending: no greeting, so the client waits.
      if (mode.kind !== 'silent') callback();
    },
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.pass)
        return callback(null, { user: auth.username });
      const error: SMTPServerError = new Error('Invalid username or password');
      error.responseCode = 535;
      return callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (mode.kind === 'reject') {
          const error: SMTPServerError = new Error(mode.message ?? `Refused by test server (${mode.code})`);
          error.responseCode = mode.code;
          return callback(error);
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        const user = typeof session.user === 'string' ? session.user : undefined;
        recorder.add({
          envelope: { from, to: session.envelope.rcptTo.map((r) => r.address) },
          raw,
          parsed: parseMail(raw),
          user,
        });
        callback();
      });
    },
  });
  const sockets = new Set<Socket>();
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  const credentials = requireAuth
    ? `${encodeURIComponent(options.user ?? '')}:${encodeURIComponent(options.pass ?? '')}@`
    : '';

  return {
    host: '127.0.0.1',
    port,
    url: `smtp://${credentials}127.0.0.1:${port}`,
    get messages() {
      return messages;
    },
    get connections() {
      return connections;
    },
    setMode(next) {
      mode = next;
    },
    waitFor(condition, timeoutMs = 5000) {
      return recorder.waitFor(condition, timeoutMs);
    },
    async close() {
      // close() waits for clients to leave; destroying the sockets ends silent sessions too.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
