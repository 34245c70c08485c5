// Regenerates src/api/schema.d.ts from the server's OpenAPI document.
// Uses $KEHU_BIN (or ../target/debug/kehu) `openapi`; commit both outputs so
// building the web app never needs cargo.
import { execFileSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const bin = process.env.KEHU_BIN || resolve(web, '../target/debug/kehu')
if (!existsSync(bin)) {
  console.error(`kehu binary not found at ${bin}; build it (KEHU_SKIP_WEB_BUILD=1 cargo build -p kehu) or set KEHU_BIN`)
  process.exit(1)
}
const doc = execFileSync(bin, ['openapi'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
JSON.parse(doc) // fail early on garbage
writeFileSync(resolve(web, 'openapi.json'), doc.endsWith('\n') ? doc : doc + '\n')
execFileSync(
  process.execPath,
  [resolve(web, 'node_modules/openapi-typescript/bin/cli.js'), 'openapi.json', '-o', 'src/api/schema.d.ts'],
  { cwd: web, stdio: 'inherit' },
)
console.log('wrote openapi.json and src/api/schema.d.ts')
