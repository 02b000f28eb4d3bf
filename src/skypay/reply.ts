import { encryptBody } from './crypto';
import { formatResponseTime } from './time';

export interface SkyPayReply {
  responseTime: string;
  responseCode: string;
  responseDescription: string;
}

/** SkyPay's only success code. Sent solely after the event has been committed. */
export const SUCCESS_CODE = '1000';

export function buildReply(code: string, description: string, offsetMinutes: number, now = new Date()): SkyPayReply {
  return { responseTime: formatResponseTime(now, offsetMinutes), responseCode: code, responseDescription: description };
}

/** An encrypted callback is answered encrypted, under the key that opened it. */
export function encodeReply(reply: SkyPayReply, key: Buffer | undefined): { type: string; body: string } {
  const json = JSON.stringify(reply);
  return key ? { type: 'text/plain', body: encryptBody(json, key) } : { type: 'application/json', body: json };
}
