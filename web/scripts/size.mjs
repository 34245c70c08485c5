// T12 (PERFORMANCE.md): the compressed JS + CSS a browser loads for the first
// view: index.html's scripts and styles plus every chunk (and its CSS) that the
// login page and the customer list route import, followed through the Vite
// manifest. Prints each file and the gzip total. Run after `npm run build`.
import { readFileSync, existsSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const dist = resolve(web, 'dist')
const manifestPath = resolve(dist, '.vite/manifest.json')
if (!existsSync(manifestPath)) {
  console.error('dist/.vite/manifest.json missing: run `npm run build` first')
  process.exit(1)
}
/** @type {Record<string, {file: string, css?: string[], imports?: string[], isEntry?: boolean}>} */
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))

const ROUTES = [
  'index.html',
  'src/views/LoginView.vue',
  'src/layouts/AppLayout.vue',
  'src/views/customers/CustomerList.vue',
]

const files = new Set()
const seen = new Set()
/** @param {string} key */
function visit(key) {
  if (seen.has(key)) return
  seen.add(key)
  const m = manifest[key]
  if (!m) {
    // not a chunk of its own: bundled into the entry (or a chunk that imports it)
    if (key === 'index.html') throw new Error('index.html is not in the manifest')
    return
  }
  files.add(m.file)
  for (const c of m.css ?? []) files.add(c)
  for (const i of m.imports ?? []) visit(i)
}
for (const r of ROUTES) visit(r)

// index.html itself may reference more (modulepreload, stylesheets).
const html = readFileSync(resolve(dist, 'index.html'), 'utf8')
for (const m of html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)) files.add(m[1])

let raw = 0
let gz = 0
const rows = []
for (const f of [...files].sort()) {
  const buf = readFileSync(resolve(dist, f))
  const z = gzipSync(buf, { level: 9 }).length
  raw += buf.length
  gz += z
  rows.push([f, buf.length, z])
}
rows.sort((a, b) => b[2] - a[2])
for (const [f, r, z] of rows) console.log(`${(z / 1024).toFixed(1).padStart(8)} KB gz ${(r / 1024).toFixed(1).padStart(8)} KB  ${f}`)
const kb = (/** @type {number} */ n) => (n / 1024).toFixed(1)
console.log(`first load (login + customer list): ${files.size} files, ${kb(raw)} KB raw, ${kb(gz)} KB gzip`)
const goal = 500 * 1024
const must = 1024 * 1024
console.log(gz <= goal ? 'T12 size: within the 500 KB goal' : gz <= must ? 'T12 size: within the 1 MB limit (over the 500 KB goal)' : 'T12 size: OVER the 1 MB limit')
if (gz > must) process.exit(1)
