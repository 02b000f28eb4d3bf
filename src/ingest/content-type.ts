import { UnsupportedMediaTypeError } from './rejections';

/** The two media types a callback comes in: JSON, or text/plain (SkyPay's encrypted form, or plain JSON as text). */
export type CallbackMediaType = 'json' | 'text';

/**
 * Rejects anything but JSON and text/plain before a byte of body is read.
 * The header is the sender's text: it is described by its size, never repeated, since the
 * description reaches logs, the rejections table and alerts in Slack and email.
 */
export function requireCallbackContentType(
  mediaType: CallbackMediaType | undefined,
  header: string,
): CallbackMediaType {
  if (mediaType !== undefined) return mediaType;
  const what = header === '' ? 'no content type' : `unsupported content type, ${Buffer.byteLength(header)} bytes`;
  throw new UnsupportedMediaTypeError(`${what}: send application/json, or text/plain with an encrypted body`);
}
