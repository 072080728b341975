/**
 * oslo.messaging's RPC ids without parsing JSON (oslo-wire.md §3.2–3.4): the inner message is a
 * JSON string inside the JSON envelope, so its keys appear escaped (`\"_msg_id\": \"<hex>\"`);
 * un-enveloped 1.0 bodies have them plain. oslo adds `_msg_id`/`_reply_q` after `args` (and a
 * reply's after `result`), so the last occurrence is the key, not a value that mentions it.
 */
const MSG_ID = Buffer.from('_msg_id')
const REPLY_Q = Buffer.from('_reply_q')
/** Quotes, backslashes, the colon and spaces between a key and its value. */
const MAX_GAP = 12
const MAX_VALUE = 80

export function hasReplyQueue(body: Buffer): boolean {
  return body.lastIndexOf(REPLY_Q) >= 0
}

export function msgIdOf(body: Buffer): string | undefined {
  return valueAfter(body, MSG_ID)
}

export function replyQueueOf(body: Buffer): string | undefined {
  return valueAfter(body, REPLY_Q)
}

function valueAfter(body: Buffer, key: Buffer): string | undefined {
  const at = body.lastIndexOf(key)
  if (at < 0) return undefined
  let i = at + key.length
  const gapEnd = Math.min(body.length, i + MAX_GAP)
  let sawColon = false
  while (i < gapEnd) {
    const c = body[i]!
    if (c === 0x3a) sawColon = true
    else if (c !== 0x22 && c !== 0x5c && c !== 0x20) break
    i++
  }
  if (!sawColon) return undefined
  const start = i
  const end = Math.min(body.length, start + MAX_VALUE)
  while (i < end && isIdByte(body[i]!)) i++
  // A value must end at its closing quote (escaped or not): `null` or a cut value is no id.
  if (i === start || i >= body.length || (body[i] !== 0x22 && body[i] !== 0x5c)) return undefined
  return body.toString('latin1', start, i)
}

/** [0-9A-Za-z_-]: uuid hex, and reply_<hex> queue names. */
function isIdByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2d
}
