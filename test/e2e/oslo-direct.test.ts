// The oslo.messaging scenarios against RabbitMQ itself (no cellgate): proves
// the Python drivers and every assertion on the real broker, so a failure of
// the same scenarios through cellgate points at the proxy.
import t from 'tap'
import { RABBIT_URL_DIRECT } from '../helpers/env.js'
import { registerOsloScenarios } from './oslo-scenarios.js'

registerOsloScenarios(t, RABBIT_URL_DIRECT, 'direct')
