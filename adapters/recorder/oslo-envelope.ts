/**
 * Just enough of an oslo.messaging body to classify a message: the 2.0 envelope
 * (`{"oslo.version": "2.0", "oslo.message": "<JSON>"}`) or a bare 1.0 JSON message. Parsed only
 * while recording; anything unreadable is "unknown", never an error.
 */
export interface OsloFields {
  method?: string
  msgId?: string
  replyQ?: string
  /** call_monitor_timeout, seconds (null in a plain call). */
  timeout?: number
  /** false on a call-monitor heartbeat reply. */
  ending?: boolean
  eventType?: string
  priority?: string
}

export function osloFields(body: Buffer): OsloFields | undefined {
  let doc: unknown
  try {
    doc = JSON.parse(body.toString('utf8'))
    if (doc !== null && typeof doc === 'object' && typeof (doc as Record<string, unknown>)['oslo.message'] === 'string') doc = JSON.parse((doc as Record<string, string>)['oslo.message']!)
  } catch {
    return undefined
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined
  const m = doc as Record<string, unknown>
  const str = (k: string): string | undefined => (typeof m[k] === 'string' ? (m[k] as string) : undefined)
  const out: OsloFields = {}
  const method = str('method')
  if (method !== undefined) out.method = method
  const msgId = str('_msg_id')
  if (msgId !== undefined) out.msgId = msgId
  const replyQ = str('_reply_q')
  if (replyQ !== undefined) out.replyQ = replyQ
  if (typeof m['_timeout'] === 'number') out.timeout = m['_timeout']
  if (typeof m['ending'] === 'boolean') out.ending = m['ending']
  const eventType = str('event_type')
  if (eventType !== undefined) out.eventType = eventType
  const priority = str('priority')
  if (priority !== undefined) out.priority = priority.toLowerCase()
  return out
}
