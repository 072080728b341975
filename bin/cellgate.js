#!/usr/bin/env node
// Installed command `cellgate`: runs the compiled CLI (build first with `npm run build`,
// or use `npm start`, which builds when needed).
import { runCli } from '../dist/cli/main.js'

runCli()
