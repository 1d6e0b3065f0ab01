import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header that carries the webhook signature: `t=<unix seconds>,v1=<hex>`. */
export const SIGNATURE_HEADER = 'x-budget-guard-signature';
/** Largest distance between the signed time and now, either way. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type SignatureFailure =
  | 'missing'
  | 'malformed'
  | 'stale'
  | 'future'
  | 'mismatch';

export type SignatureCheck =
  | { ok: true; timestamp: number; signature: string }
  | { ok: false; reason: SignatureFailure };

/** Computes the hex HMAC-SHA256 of `"<unix time>.<raw body>"`. */
export function computeSignature(
  secret: string,
  timestamp: number,
  rawBody: string | Buffer,
): string {
  return createHmac('sha256', secret)
    .update(`${timestamp}.`)
    .update(rawBody)
    .digest('hex');
}

/** Builds the signature header value for a body signed at `timestamp`. */
export function signatureHeader(
  secret: string,
  timestamp: number,
  rawBody: string | Buffer,
): string {
  return `t=${timestamp},v1=${computeSignature(secret, timestamp, rawBody)}`;
}

/**
 * Verifies a signature header against the raw body. The time must be within
 * the tolerance of now, and the digests are compared in constant time; any
 * of several `v1` values may match, so a secret can be rotated.
 */
export function verifySignature(input: {
  header: string | undefined;
  rawBody: string | Buffer;
  secrets: readonly string[];
  nowSeconds: number;
  toleranceSeconds?: number;
}): SignatureCheck {
  if (!input.header) return { ok: false, reason: 'missing' };
  const parsed = parseHeader(input.header);
  if (!parsed) return { ok: false, reason: 'malformed' };
  const tolerance = input.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS;
  if (parsed.timestamp < input.nowSeconds - tolerance)
    return { ok: false, reason: 'stale' };
  if (parsed.timestamp > input.nowSeconds + tolerance)
    return { ok: false, reason: 'future' };
  for (const secret of input.secrets) {
    const expected = Buffer.from(
      computeSignature(secret, parsed.timestamp, input.rawBody),
      'hex',
    );
    for (const candidate of parsed.signatures) {
      const given = Buffer.from(candidate, 'hex');
      if (
        given.length === expected.length &&
        timingSafeEqual(given, expected)
      ) {
        return { ok: true, timestamp: parsed.timestamp, signature: candidate };
      }
    }
  }

  return { ok: false, reason: 'mismatch' };
}

function parseHeader(
  header: string,
): { timestamp: number; signatures: string[] } | undefined {
  if (header.length > 1024) return undefined;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const match = /^\s*(t|v1)=([^\s,]+)\s*$/.exec(part);
    if (!match) return undefined;
    const [, key, value] = match as unknown as [string, string, string];
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value))
        return undefined;
      timestamp = Number(value);
    } else {
      if (!/^[0-9a-f]{64}$/i.test(value)) return undefined;
      signatures.push(value.toLowerCase());
    }
  }
  if (timestamp === undefined || signatures.length === 0) return undefined;

  return { timestamp, signatures };
}
