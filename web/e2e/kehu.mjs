// Starts a real kehu (`kehu demo` on a fresh SQLite file and a free port),
// waits for /healthz, and serves the web app: from the binary itself when it
// embeds web/dist, otherwise from a small static server with an /api proxy.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createStaticServer } from './static-server.mjs'

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** @returns {Promise<number>} */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer()
    s.once('error', fail)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      s.close(() => ok(port))
    })
  })
}

/** @param {string} url @param {number} ms */
async function waitHealthy(url, ms) {
  const until = Date.now() + ms
  let last = ''
  while (Date.now() < until) {
    try {
      const r = await fetch(url)
      if (r.ok) return
      last = `HTTP ${r.status}`
    } catch (e) {
      last = String(e)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`kehu did not become healthy at ${url} within ${ms} ms (${last})`)
}

/**
 * @returns {Promise<{ base: string, api: string, embedded: boolean, stop: () => Promise<void>, log: () => string }>}
 */
export async function startKehu() {
  const bin = process.env.KEHU_BIN || resolve(web, '../target/debug/kehu')
  if (!existsSync(bin)) throw new Error(`kehu binary not found: ${bin} (set KEHU_BIN)`)
  const dir = mkdtempSync(join(tmpdir(), 'kehu-e2e-'))
  const port = await freePort()
  const api = `http://127.0.0.1:${port}`
  let output = ''
  const child = spawn(bin, ['demo', '--database-url', `sqlite://${join(dir, 'e2e.db')}`, '--bind', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KEHU_LOG: process.env.KEHU_LOG ?? 'warn' },
  })
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise((r) => child.once('exit', r))
  try {
    await Promise.race([
      waitHealthy(`${api}/healthz`, 180_000),
      exited.then((code) => {
        throw new Error(`kehu exited early (${code}):\n${output}`)
      }),
    ])
  } catch (e) {
    child.kill('SIGTERM')
    throw e
  }

  // Does the binary serve the web app at `/`?
  const index = await (await fetch(`${api}/`)).text()
  // KEHU_E2E_SERVE_DIST=1 tests the current web/dist even when the binary
  // embeds an older build.
  const embedded = index.includes('id="kehu-app"') && !process.env.KEHU_E2E_SERVE_DIST
  /** @type {import('node:http').Server | null} */
  let server = null
  let base = api
  if (!embedded) {
    if (!existsSync(join(web, 'dist/index.html'))) {
      console.log('# web/dist missing: running npm run build')
      const b = spawnSync('npm', ['run', 'build'], { cwd: web, stdio: 'inherit' })
      if (b.status !== 0) throw new Error('npm run build failed')
    }
    const sport = await freePort()
    server = createStaticServer({ root: join(web, 'dist'), api: new URL(api) })
    await new Promise((r) => server?.listen(sport, '127.0.0.1', () => r(undefined)))
    base = `http://127.0.0.1:${sport}`
  }

  return {
    base,
    api,
    embedded,
    log: () => output,
    stop: async () => {
      if (server) await new Promise((r) => server?.close(() => r(undefined)))
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        const t = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(t)
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A signed-in API client for test set-up (cookie + CSRF token). */
export class ApiClient {
  /** @param {string} api */
  constructor(api) {
    this.api = api
    this.cookie = ''
    this.csrf = ''
  }

  /** @param {string} login @param {string} password */
  async login(login, password) {
    const r = await fetch(`${this.api}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'demo', login, password }),
    })
    if (!r.ok) throw new Error(`login ${login}: HTTP ${r.status} ${await r.text()}`)
    const set = r.headers.get('set-cookie') ?? ''
    this.cookie = set.split(';')[0] ?? ''
    this.csrf = /** @type {{ csrf_token: string }} */ (await r.json()).csrf_token
    return this
  }

  /**
   * @param {string} method @param {string} path @param {unknown} [body] @param {string} [ifMatch]
   * @returns {Promise<{ status: number, etag: string | null, data: any }>}
   */
  async req(method, path, body, ifMatch) {
    /** @type {Record<string, string>} */
    const headers = { cookie: this.cookie, 'x-csrf-token': this.csrf, 'accept-language': 'zh-CN' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (ifMatch) headers['if-match'] = ifMatch
    const r = await fetch(`${this.api}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await r.text()
    const data = text ? JSON.parse(text) : null
    if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status} ${text}`)
    return { status: r.status, etag: r.headers.get('etag'), data }
  }
}
