// End-to-end tests: a real kehu (demo data), the built web app, Debian's
// Chromium driven by playwright-core. Run with `npm run test:e2e` after
// `npm run build`; KEHU_BIN points at the kehu binary.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { ApiClient, startKehu } from './kehu.mjs'

const here = dirname(fileURLToPath(import.meta.url))
// `npm run screenshots` writes them to docs/screenshots/ (committed); a plain
// e2e run keeps them out of the work tree.
const SHOTS = process.env.KEHU_SCREENSHOTS ? resolve(process.env.KEHU_SCREENSHOTS) : resolve(here, '.tmp/screenshots')
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium'
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const DESKTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }
const PASSWORDS = {
  admin: 'demo-admin-2026',
  'li.na': 'demo-li.na-2026',
  'zhang.wei': 'demo-zhang.wei-2026',
  'zhou.min': 'demo-zhou.min-2026',
}

// The insight scenarios need the /insight API (issue 5); they run once the
// committed OpenAPI document has it (the binary is built from the same tree).
const INSIGHT_SKIP = readFileSync(resolve(here, '../openapi.json'), 'utf8').includes('"/insight') ? false : 'waiting for /insight API'

/** @type {Awaited<ReturnType<typeof startKehu>>} */
let kehu
/** @type {import('playwright-core').BrowserContext} */
let context
/** @type {import('playwright-core').Page} */
let page
/** @type {ApiClient} */
let admin
let profileDir = ''
/** Problems the browser reported: console errors, page errors, dialogs. */
const problems = /** @type {string[]} */ ([])
let dialogs = 0

/**
 * Failed API responses are logged by Chromium as console errors; those the
 * scenarios provoke on purpose (401 before login and for wrong passwords, 403
 * for a stale CSRF token, 404, 409, 412, 422, 429) are expected.
 * @param {string} text
 */
function expectedConsole(text) {
  return /Failed to load resource: the server responded with a status of (401|403|404|409|412|422|429)/.test(text)
}

/** @param {import('playwright-core').Page} p */
function watch(p) {
  p.on('console', (m) => {
    if ((m.type() === 'error' || m.type() === 'warning') && !expectedConsole(m.text())) {
      problems.push(`${m.type()}: ${m.text()}`)
    }
  })
  p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  p.on('dialog', async (d) => {
    dialogs += 1
    problems.push(`dialog: ${d.type()} ${d.message()}`)
    await d.dismiss()
  })
}

/** @param {import('playwright-core').Page} p @param {string} name */
async function shot(p, name) {
  mkdirSync(SHOTS, { recursive: true })
  await p.waitForTimeout(300) // let transitions settle
  await p.screenshot({ path: join(SHOTS, `${name}.png`) })
}

/**
 * @param {import('playwright-core').Page} p @param {string} login
 * @param {string} [password] defaults to the demo password of `login`
 */
async function signIn(p, login, password) {
  await p.goto(`${kehu.base}/login`)
  await p.locator('input[name=tenant]').fill('demo')
  await p.locator('input[name=login]').fill(login)
  await p.locator('input[name=password]').fill(password ?? PASSWORDS[/** @type {keyof typeof PASSWORDS} */ (login)])
  await p.locator('input[name=password]').press('Enter')
  await p.waitForURL((u) => !u.pathname.startsWith('/login'))
}

/** @param {import('playwright-core').Page} p */
async function signOut(p) {
  await p.locator('[data-testid=user-menu]').click()
  await p.locator('[data-testid=logout]').click()
  await p.waitForURL(/\/login/)
  await p.locator('[data-testid=login]').waitFor()
}

/** A second browser profile (its own cookies), watched like the first. */
async function otherBrowser() {
  const dir = mkdtempSync(join(tmpdir(), 'kehu-chromium-'))
  const ctx = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: DESKTOP, locale: 'zh-CN' })
  const p = ctx.pages()[0] ?? (await ctx.newPage())
  watch(p)
  return {
    p,
    close: async () => {
      await ctx.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The admin's saved views, straight from the API. */
async function adminViews() {
  return /** @type {{ id: string, name: string, version: number, config: { q?: string } }[]} */ ((await admin.req('GET', '/views?kind=customers')).data)
}

const rows = () => page.locator('[data-testid=customer-table] .el-table__body-wrapper tr.el-table__row')

describe('Kehu web app', { timeout: 600_000 }, () => {
  before(async () => {
    kehu = await startKehu()
    console.log(`# kehu at ${kehu.api}; web app ${kehu.embedded ? 'embedded in the binary' : `served from web/dist at ${kehu.base}`}`)
    admin = await new ApiClient(kehu.api).login('admin', PASSWORDS.admin)
    profileDir = mkdtempSync(join(tmpdir(), 'kehu-chromium-'))
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: DESKTOP,
      locale: 'zh-CN',
    })
    page = context.pages()[0] ?? (await context.newPage())
    watch(page)
  })

  after(async () => {
    await context?.close()
    if (profileDir) rmSync(profileDir, { recursive: true, force: true })
    await kehu?.stop()
  })

  test('login page, then sign in as admin', async () => {
    await page.goto(`${kehu.base}/customers`)
    await page.waitForURL(/\/login/)
    await page.locator('[data-testid=login]').waitFor()
    assert.equal(await page.locator('h1').innerText(), '客户')
    await shot(page, 'login')
    // wrong password: a clear message, no navigation
    await page.locator('input[name=tenant]').fill('demo')
    await page.locator('input[name=login]').fill('admin')
    await page.locator('input[name=password]').fill('wrong-password')
    await page.locator('input[name=password]').press('Enter')
    await page.locator('[data-testid=login-error]').waitFor()
    assert.match(await page.locator('[data-testid=login-error]').innerText(), /不正确/)
    await page.locator('input[name=password]').fill(PASSWORDS.admin)
    await page.locator('input[name=password]').press('Enter')
    await page.waitForURL(/\/customers$/)
    await rows().first().waitFor()
  })

  test('T12: customer list interactive after navigation', async () => {
    const runs = []
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now()
      await page.goto(`${kehu.base}/customers`)
      await rows().first().waitFor()
      runs.push(Date.now() - t0)
    }
    runs.sort((a, b) => a - b)
    console.log(`# T12 customer list interactive: ${runs.join(' ms, ')} ms (median ${runs[1]} ms, target <= 1000 ms)`)
    assert.ok((await rows().count()) >= 20)
    await shot(page, 'customer-list')
  })

  test('search by a Chinese name fragment and by pinyin initials', async () => {
    const first = await rows().first().locator('.name-link').innerText()
    const two = [...first.trim()].slice(0, 2).join('')
    const search = page.locator('input[data-testid=customer-search]')
    await search.fill(two)
    await page.waitForFunction(
      (s) => {
        const names = [...document.querySelectorAll('[data-testid=customer-table] .name-link')].map((e) => e.textContent ?? '')
        // the search also matches contacts' names, so not every row's name has it
        return names.length > 0 && names.length < 50 && names.some((n) => n.includes(s))
      },
      two,
      { timeout: 10_000 },
    )
    // pinyin initials of a customer created for this test
    await admin.req('POST', '/customers', { kind: 'person', name: '欧阳明轩' })
    await search.fill('oymx')
    await page.waitForFunction(
      () => [...document.querySelectorAll('[data-testid=customer-table] .name-link')].some((e) => e.textContent?.includes('欧阳明轩')),
      null,
      { timeout: 10_000 },
    )
    await search.fill('')
  })

  test('create with a bad mobile: the server error shows next to the field; fix and save', async () => {
    await page.goto(`${kehu.base}/customers/new`)
    await page.locator('input[data-testid=field-name]').fill('端到端测试客户')
    await page.locator('input[data-testid=field-phone-0]').fill('12345')
    await page.locator('[data-testid=save-customer]').click()
    const item = page.locator('.el-form-item', { has: page.locator('[data-testid=field-phone-0]') })
    const error = item.locator('.el-form-item__error')
    await error.waitFor()
    const message = await error.innerText()
    assert.match(message, /[\u4e00-\u9fff]/, `expected a Chinese message, got ${message}`)
    assert.equal(await page.locator('input[data-testid=field-phone-0]').evaluate((e) => e === document.activeElement), true)
    await shot(page, 'customer-form-error')
    await page.locator('input[data-testid=field-phone-0]').fill('138 0013 8000')
    await page.locator('[data-testid=save-customer]').click()
    await page.waitForURL(/\/customers\/[0-9a-f-]{36}$/)
    assert.equal(await page.locator('[data-testid=customer-name]').innerText(), '端到端测试客户')
    await page.locator('[data-testid=profile]').waitFor()
  })

  test('edit with a stale version: the conflict dialog compares and offers reload', async () => {
    const id = page.url().split('/').pop() ?? ''
    await page.locator('[data-testid=edit-customer]').click()
    await page.waitForURL(/\/edit$/)
    await page.locator('input[data-testid=field-name]').waitFor()
    // someone else saves the customer in between
    const current = await admin.req('GET', `/customers/${id}`)
    await admin.req('PATCH', `/customers/${id}`, { notes: '他人刚刚修改' }, current.etag ?? '')
    await page.locator('input[data-testid=field-name]').fill('端到端测试客户（改）')
    await page.locator('[data-testid=save-customer]').click()
    const dialog = page.locator('.el-dialog', { hasText: '客户已被他人修改' })
    await dialog.waitFor()
    assert.match(await dialog.innerText(), /端到端测试客户（改）/)
    await page.locator('[data-testid=conflict-reload]').click()
    await dialog.waitFor({ state: 'hidden' })
    assert.equal(await page.locator('input[data-testid=field-name]').inputValue(), '端到端测试客户')
    const after = await admin.req('GET', `/customers/${id}`)
    assert.equal(after.data.name, '端到端测试客户', 'nothing was overwritten')
  })

  test('customer detail: profile, reveal with a reason, orders in yuan, timeline', async () => {
    const list = (await admin.req('GET', '/customers?limit=30&kind=person')).data.items
    let target = null
    for (const c of list) {
      const o = (await admin.req('GET', `/customers/${c.id}/orders?limit=1`)).data
      if (o.order_count > 0 && c.phones?.length) {
        target = { c, o }
        break
      }
    }
    assert.ok(target, 'a seeded person with orders and a phone')
    await page.goto(`${kehu.base}/customers/${target.c.id}`)
    await page.locator('[data-testid=profile]').waitFor()
    assert.match(await page.locator('[data-field=phones]').innerText(), /\*/)
    await shot(page, 'customer-detail')
    await page.locator('[data-testid=reveal]').click()
    await page.locator('input[data-testid=reveal-reason]').fill('客户来电核实身份')
    await page.locator('[data-testid=reveal-submit]').click()
    await page.waitForFunction(() => !document.querySelector('[data-field=phones]')?.textContent?.includes('*'))
    assert.match(await page.locator('[data-field=phones]').innerText(), /^\+?\d/)
    await page.getByRole('tab', { name: '订单' }).click()
    await page.locator('[data-testid=orders-total]').waitFor()
    const total = (target.o.total_fen / 100).toFixed(2)
    assert.ok((await page.locator('[data-testid=orders-total]').innerText()).replace(/,/g, '').includes(`¥${total}`))
    // record an order of ¥12.34: the total grows by exactly 1234 分
    await page.getByRole('button', { name: '录入订单' }).click()
    const dlg = page.locator('.el-dialog', { hasText: '录入订单' })
    await dlg.locator('input[placeholder=商品]').fill('测试商品')
    await dlg.locator('input[placeholder="金额（元）"]').fill('12.34')
    await dlg.locator('input[placeholder="金额（元）"]').press('Tab')
    await dlg.locator('button[type=submit]').click()
    const grown = ((target.o.total_fen + 1234) / 100).toFixed(2)
    await page.waitForFunction(
      (want) => document.querySelector('[data-testid=orders-total]')?.textContent?.replace(/,/g, '').includes(want),
      `¥${grown}`,
    )
    await page.getByRole('tab', { name: '动态' }).click()
    await page.locator('[data-testid=timeline] .el-timeline-item').first().waitFor()
  })

  test('saved views: save the current search, switch away and back', async () => {
    await page.goto(`${kehu.base}/customers`)
    await rows().first().waitFor()
    await page.locator('input[data-testid=customer-search]').fill('欧阳')
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=customer-table] tr.el-table__row').length < 20)
    await page.locator('[data-testid=saved-views]').click()
    await page.locator('[data-testid=view-save-as]').click()
    await page.locator('input[data-testid=view-name]').fill('欧阳客户')
    await page.locator('[data-testid=view-name-save]').click()
    await page.locator('.el-message', { hasText: '已保存' }).waitFor()
    const views = (await fetch(`${kehu.api}/api/v1/views?kind=customers`, { headers: { cookie: admin.cookie } }).then((r) => r.json()))
    assert.equal(views[0]?.name, '欧阳客户')
    assert.equal(views[0]?.config?.q, '欧阳')
    await page.locator('[data-testid=saved-views]').click()
    await page.locator('.el-dropdown-menu__item', { hasText: '全部客户' }).click()
    await page.waitForFunction(() => /** @type {HTMLInputElement | null} */ (document.querySelector('input[data-testid=customer-search]'))?.value === '')
    await page.locator('[data-testid=saved-views]').click()
    await page.locator('.el-dropdown-menu__item', { hasText: '欧阳客户' }).click()
    await page.waitForFunction(() => /** @type {HTMLInputElement | null} */ (document.querySelector('input[data-testid=customer-search]'))?.value === '欧阳')
  })

  test('saved views: rename (a taken name is refused next to the field; a stale view reloads)', async () => {
    // the list still shows 欧阳客户 from the previous scenario
    await page.locator('[data-testid=saved-views]', { hasText: '欧阳客户' }).waitFor()
    await admin.req('POST', '/views', { name: '已有的视图', kind: 'customers', config: {} })
    const dialog = page.locator('[data-testid=view-name-form]')
    const name = page.locator('input[data-testid=view-name]')
    // a name the user already has: the server's message under the field, the dialog stays
    await page.locator('[data-testid=saved-views]').click()
    await page.locator('[data-testid=view-rename]').click()
    assert.equal(await name.inputValue(), '欧阳客户')
    await name.fill('已有的视图')
    await page.locator('[data-testid=view-name-save]').click()
    const error = dialog.locator('.el-form-item__error')
    await error.waitFor()
    assert.equal((await error.innerText()).trim(), '你已有同名的视图')
    // a free name: renamed, shown, stored
    await name.fill('欧阳重点客户')
    await page.locator('[data-testid=view-name-save]').click()
    await page.locator('.el-message', { hasText: '视图已重命名为“欧阳重点客户”' }).waitFor()
    await page.locator('[data-testid=saved-views]', { hasText: '欧阳重点客户' }).waitFor()
    let stored = (await adminViews()).find((v) => v.config?.q === '欧阳')
    assert.equal(stored?.name, '欧阳重点客户')
    assert.equal(stored?.version, 2)
    // renamed elsewhere meanwhile: a notice, the list reloads with the other name, nothing overwritten
    await admin.req('PATCH', `/views/${stored?.id}`, { name: '别处改的名字' }, `"${stored?.version}"`)
    await page.locator('[data-testid=saved-views]').click()
    await page.locator('[data-testid=view-rename]').click()
    await name.fill('我的名字')
    await page.locator('[data-testid=view-name-save]').click()
    await page.locator('.el-message', { hasText: '视图已在别处修改，已重新加载。' }).waitFor()
    await page.locator('[data-testid=saved-views]', { hasText: '别处改的名字' }).waitFor()
    stored = (await adminViews()).find((v) => v.id === stored?.id)
    assert.equal(stored?.name, '别处改的名字')
  })

  test('the list’s search, filters and sort live in the URL: a link and a reload show the same list', async () => {
    const want = /** @type {{ name: string }[]} */ ((await admin.req('GET', '/customers?kind=company&sort=name&limit=5')).data.items).map((c) => c.name)
    assert.equal(want.length, 5)
    const firstNames = () => page.evaluate(() => [...document.querySelectorAll('[data-testid=customer-table] .name-link')].slice(0, 5).map((e) => e.textContent?.trim()))
    // a shared link
    await page.goto(`${kehu.base}/customers?kind=company&sort=name`)
    await rows().first().waitFor()
    await page.waitForFunction((w) => [...document.querySelectorAll('[data-testid=customer-table] .name-link')].slice(0, 5).map((e) => e.textContent?.trim()).join('|') === w.join('|'), want)
    // typing a search goes into the URL
    const two = [...want[0]].slice(0, 2).join('')
    await page.locator('input[data-testid=customer-search]').fill(two)
    await page.waitForURL((u) => u.searchParams.get('q') === two && u.searchParams.get('kind') === 'company' && u.searchParams.get('sort') === 'name')
    // a reload keeps search, filter and sort
    await page.reload()
    await rows().first().waitFor()
    assert.equal(await page.locator('input[data-testid=customer-search]').inputValue(), two)
    assert.equal((await firstNames())[0], want[0])
    assert.equal(new URL(page.url()).searchParams.get('kind'), 'company')
    // a saved view replaces it all; the plain list is the bare URL again
    await page.locator('[data-testid=saved-views]').click()
    await page.locator('.el-dropdown-menu__item', { hasText: '全部客户' }).click()
    await page.waitForURL((u) => u.pathname === '/customers' && u.search === '')
  })

  test('bulk action: assign an owner to selected customers and see the result', async () => {
    await page.goto(`${kehu.base}/customers`)
    await rows().first().waitFor()
    await page.locator('input[data-testid=customer-search]').fill('')
    await rows().nth(1).waitFor()
    await rows().nth(0).locator('.el-checkbox').click()
    await rows().nth(1).locator('.el-checkbox').click()
    await page.locator('[data-testid=bulk-bar]').waitFor()
    await page.locator('[data-testid=bulk-bar] button', { hasText: '分配负责人' }).click()
    await page.locator('[data-testid=bulk-user]').click()
    await page.locator('.el-select-dropdown__item', { hasText: '李娜' }).click()
    await page.locator('[data-testid=bulk-run]').click()
    const result = page.locator('[data-testid=bulk-result]')
    await result.waitFor()
    assert.match(await result.innerText(), /已更新 2 个客户/)
  })

  test('switch to English and back', async () => {
    await page.goto(`${kehu.base}/customers`)
    await rows().first().waitFor()
    await page.locator('[data-testid=user-menu]').click()
    await page.locator('[data-testid=lang-en]').click()
    await page.locator('.page-header h1', { hasText: 'Customers' }).waitFor()
    assert.match(await page.locator('[data-testid=nav]').innerText(), /Administration/)
    assert.equal(await page.locator('html').getAttribute('lang'), 'en')
    const me = /** @type {{ user: { locale: string } }} */ (await fetch(`${kehu.api}/api/v1/auth/me`, { headers: { cookie: admin.cookie } }).then((r) => r.json()))
    assert.equal(me.user.locale, 'en', 'the language is remembered for the user')
    await page.locator('[data-testid=user-menu]').click()
    await page.locator('[data-testid=lang-zh]').click()
    await page.locator('.page-header h1', { hasText: '客户列表' }).waitFor()
  })

  test('admin roles page', async () => {
    await page.goto(`${kehu.base}/admin/roles`)
    await page.locator('[data-testid=field-permissions]').waitFor()
    assert.ok((await page.locator('[data-testid=role-list] .role').count()) >= 6)
    await shot(page, 'admin-roles')
  })

  test('an admin creates a sales rep, signs out, and the new user signs in', async () => {
    await page.goto(`${kehu.base}/admin/users`)
    await page.locator('[data-testid=user-table]').waitFor()
    await page.locator('[data-testid=user-add]').click()
    await page.locator('input[data-testid=user-login]').fill('e2e.newrep')
    await page.locator('input[data-testid=user-display-name]').fill('新来的销售')
    await page.locator('[data-testid=user-role]').click()
    await page.locator('.el-select-dropdown__item:visible').filter({ hasText: /^\s*销售代表\s*$/ }).click()
    await page.locator('[data-testid=user-department]').click()
    await page.locator('.el-select-dropdown__item:visible', { hasText: '销售一部' }).click()
    await page.locator('input[data-testid=user-password]').fill('new-rep-password-2026')
    await page.locator('[data-testid=user-save]').click()
    await page.locator('[data-testid=user-table] tr', { hasText: 'e2e.newrep' }).waitFor()
    const row = page.locator('[data-testid=user-table] tr', { hasText: 'e2e.newrep' })
    assert.match(await row.innerText(), /新来的销售[\s\S]*销售代表[\s\S]*销售一部/)
    const created = (await admin.req('GET', '/users')).data.find((/** @type {{login: string}} */ u) => u.login === 'e2e.newrep')
    assert.equal(created?.role, 'sales')
    await signOut(page)
    await signIn(page, 'e2e.newrep', 'new-rep-password-2026')
    await page.waitForURL(/\/customers$/)
    assert.match(await page.locator('[data-testid=user-menu]').innerText(), /新来的销售/)
    assert.doesNotMatch(await page.locator('[data-testid=nav]').innerText(), /系统管理/)
    // back to the admin for the scenarios that follow
    await signOut(page)
    await signIn(page, 'admin')
  })

  test('login throttling: repeated wrong passwords for one account show the wait from the 429', async () => {
    // a dedicated account, so no other scenario is locked out
    await admin.req('POST', '/users', { login: 'e2e.locked', password: 'locked-password-2026', role: 'sales' })
    const { p, close } = await otherBrowser()
    await p.goto(`${kehu.base}/login`)
    await p.locator('input[name=tenant]').fill('demo')
    await p.locator('input[name=login]').fill('e2e.locked')
    // the server pauses an account after 5 failures (kehu-app AppConfig::account_max_failures)
    /** @type {number[]} */
    const statuses = []
    for (let i = 0; i < 6; i++) {
      await p.locator('input[name=password]').fill(`wrong-password-${i}`)
      const [res] = await Promise.all([
        p.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login')),
        p.locator('input[name=password]').press('Enter'),
      ])
      statuses.push(res.status())
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429])
    const notice = p.locator('[data-testid=login-throttled]')
    await notice.waitFor()
    const m = /登录失败次数过多，请在 (\d+) 秒后重试。/.exec(await notice.innerText())
    assert.ok(m, `throttle message: ${await notice.innerText()}`)
    const seconds = Number(m[1])
    assert.ok(seconds > 0 && seconds <= 60, `wait ${seconds} s`)
    assert.equal(await p.locator('button[type=submit]').isDisabled(), true)
    assert.match(await p.locator('button[type=submit]').innerText(), /秒后可重试/)
    await close()
  })

  test('another tab signs in: the same account carries on, another account resets and goes home', async () => {
    // the admin's page is on the customer list with a search typed in
    await page.goto(`${kehu.base}/customers`)
    await rows().first().waitFor()
    await page.locator('input[data-testid=customer-search]').fill('欧阳')
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=customer-table] tr.el-table__row').length < 20)
    // "another tab" of this browser signs in as the admin again: the cookie (and its CSRF token) change
    const again = await context.request.post(`${kehu.base}/api/v1/auth/login`, { data: { tenant: 'demo', login: 'admin', password: PASSWORDS.admin } })
    assert.equal(again.status(), 200)
    let refused = 0
    const count = (/** @type {import('playwright-core').Response} */ r) => {
      if (r.status() === 403) refused += 1
    }
    page.on('response', count)
    await page.locator('[data-testid=saved-views]').click()
    await page.locator('[data-testid=view-save-as]').click()
    await page.locator('input[data-testid=view-name]').fill('换了令牌也能保存')
    await page.locator('[data-testid=view-name-save]').click()
    await page.locator('.el-message', { hasText: '视图“换了令牌也能保存”已保存' }).waitFor()
    assert.equal(refused, 1, 'refused once, then retried with the new token')
    assert.ok((await adminViews()).some((v) => v.name === '换了令牌也能保存'))
    // now another tab signs in as li.na: the next write must not be made as li.na
    const other = await context.request.post(`${kehu.base}/api/v1/auth/login`, { data: { tenant: 'demo', login: 'li.na', password: PASSWORDS['li.na'] } })
    assert.equal(other.status(), 200)
    await page.locator('[data-testid=saved-views]').click()
    await page.locator('[data-testid=view-save-as]').click()
    await page.locator('input[data-testid=view-name]').fill('不该保存到别人名下')
    await page.locator('[data-testid=view-name-save]').click()
    const notice = page.locator('.el-notification', { hasText: '登录账号已变更' })
    await notice.waitFor()
    assert.match(await notice.innerText(), /李娜（demo）/)
    page.off('response', count)
    assert.equal(refused, 2)
    await page.locator('[data-testid=user-menu]', { hasText: '李娜' }).waitFor()
    await page.waitForURL(/\/customers$/)
    await page.locator('.page-header h1', { hasText: '客户列表' }).waitFor()
    // nothing of the admin's list survived: no search text, no admin menu
    assert.equal(await page.locator('input[data-testid=customer-search]').inputValue(), '')
    assert.doesNotMatch(await page.locator('[data-testid=nav]').innerText(), /系统管理/)
    const lina = await new ApiClient(kehu.api).login('li.na', PASSWORDS['li.na'])
    const linaViews = /** @type {{ name: string }[]} */ ((await lina.req('GET', '/views?kind=customers')).data)
    assert.ok(!linaViews.some((v) => v.name === '不该保存到别人名下'), 'the write was not replayed as li.na')
    await notice.locator('.el-notification__closeBtn').click()
    await signOut(page)
    await signIn(page, 'admin')
  })

  test('user-controlled text is rendered as text, never as HTML', async () => {
    const name = '<img src=x onerror=alert(1)>'
    const created = await admin.req('POST', '/customers', { kind: 'person', name })
    await page.goto(`${kehu.base}/customers/${created.data.id}`)
    await page.locator('[data-testid=customer-name]').waitFor()
    assert.equal(await page.locator('[data-testid=customer-name]').innerText(), name)
    assert.equal(await page.locator('img[src=x]').count(), 0)
    await page.goto(`${kehu.base}/customers`)
    await page.locator('input[data-testid=customer-search]').fill('onerror')
    await page.waitForTimeout(1200)
    assert.equal(await page.locator('img[src=x]').count(), 0)
    assert.equal(dialogs, 0, 'no dialog fired')
  })

  test('a sales rep of another department cannot open li.na’s customer', async () => {
    const users = (await admin.req('GET', '/users')).data
    const lina = users.find((/** @type {{login: string}} */ u) => u.login === 'li.na')
    const owned = (await admin.req('GET', `/customers?owner_id=${lina.id}&limit=1`)).data.items[0]
    assert.ok(owned, 'li.na owns a customer')
    // a second browser profile, so the admin's session stays untouched
    const dir = mkdtempSync(join(tmpdir(), 'kehu-chromium-'))
    const other = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: DESKTOP })
    const p = other.pages()[0] ?? (await other.newPage())
    watch(p)
    await signIn(p, 'zhang.wei')
    await p.goto(`${kehu.base}/customers/${owned.id}`)
    await p.locator('[data-testid=customer-not-found]').waitFor()
    assert.match(await p.locator('[data-testid=customer-not-found]').innerText(), /无权查看/)
    // the admin pages are not offered to a sales rep
    assert.doesNotMatch(await p.locator('[data-testid=nav]').innerText(), /系统管理/)
    await p.goto(`${kehu.base}/admin/roles`)
    await p.locator('[data-testid=forbidden]').waitFor()
    await other.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('insight: a manager opens a customer and sees tier and stage with the reason', { skip: INSIGHT_SKIP }, async () => {
    const manager = await new ApiClient(kehu.api).login('zhou.min', PASSWORDS['zhou.min'])
    const items = /** @type {{ id: string, tier?: string | null }[]} */ ((await manager.req('GET', '/customers?limit=100')).data.items)
    // a valuable customer (orders, a prediction) makes the better screenshot; any classified one will do
    const target = items.find((c) => c.tier === 'A' || c.tier === 'B') ?? items.find((c) => c.tier)
    assert.ok(target, 'the demo data is classified at seed time: a customer in the manager’s scope has a tier')
    const insight = (await manager.req('GET', `/customers/${target.id}/insight`)).data
    assert.ok(insight.computed_at && insight.tier?.explanation && insight.stage?.explanation)
    const { p, close } = await otherBrowser()
    await signIn(p, 'zhou.min')
    // the list shows the tier column
    await p.locator('[data-testid=customer-table] [data-testid=tier-badge]').first().waitFor()
    await p.goto(`${kehu.base}/customers/${target.id}`)
    const badge = p.locator('[data-testid=customer-header] [data-testid=tier-badge]')
    await badge.waitFor()
    assert.equal(await badge.getAttribute('data-value'), insight.tier.value)
    assert.equal((await badge.innerText()).trim(), insight.tier.name)
    // why? on hover
    await badge.hover()
    await p.locator('.el-popper', { hasText: insight.tier.explanation }).first().waitFor()
    await p.locator('[data-testid=customer-header] [data-testid=stage-badge]').waitFor()
    // and in the insight tab, with the history
    await p.getByRole('tab', { name: '洞察' }).click()
    assert.equal(await p.locator('[data-testid=tier-explanation]').innerText(), insight.tier.explanation)
    assert.equal(await p.locator('[data-testid=stage-explanation]').innerText(), insight.stage.explanation)
    await p.locator('[data-testid=tier-chart]').waitFor()
    await shot(p, 'customer-insight')
    await close()
  })

  test('insight: the admin writes a tag rule, sees the live preview count, saves it', { skip: INSIGHT_SKIP }, async () => {
    await page.goto(`${kehu.base}/insight/rules`)
    await page.locator('[data-testid=rules-table]').waitFor()
    await page.locator('[data-testid=rule-add]').click()
    const dialog = page.locator('[data-testid=rule-dialog]')
    await dialog.locator('input[data-testid=rule-name]').fill('端到端常购客户')
    await dialog.locator('input[data-testid=rule-tag]').fill('端到端常购')
    const text = dialog.locator('textarea[data-testid=rule-text]')
    // a rule that does not parse: the message and column under the editor
    await text.fill('orders_365d >=')
    await dialog.locator('[data-testid=rule-error]').waitFor()
    assert.match(await dialog.locator('[data-testid=rule-error]').innerText(), /第 \d+ 列/)
    const rule = 'orders_365d >= 2'
    await text.fill(rule)
    const count = dialog.locator('[data-testid=rule-preview-count]')
    await count.waitFor()
    const want = (await admin.req('POST', '/insight/rules/preview', { rule })).data
    await page.waitForFunction((n) => document.querySelector('[data-testid=rule-preview-count]')?.getAttribute('data-matches') === String(n), want.matches)
    assert.match(await count.innerText(), new RegExp(`匹配 ${want.matches} 个客户，共 ${want.total} 个`))
    if (want.matches > 0) await dialog.locator('[data-testid=rule-preview] a').first().waitFor()
    await shot(page, 'tag-rule-editor')
    await dialog.locator('[data-testid=rule-save]').click()
    await dialog.waitFor({ state: 'hidden' })
    await page.locator('[data-testid=rules-table] tr', { hasText: '端到端常购客户' }).waitFor()
    const rules = (await admin.req('GET', '/insight/rules')).data
    const saved = (Array.isArray(rules) ? rules : rules.items).find((/** @type {{ name: string }} */ r) => r.name === '端到端常购客户')
    assert.equal(saved?.rule, rule)
    assert.equal(saved?.tag, '端到端常购')
  })

  test('insight: the at-risk list shows customers, ranked by value at risk', { skip: INSIGHT_SKIP }, async () => {
    const api = (await admin.req('GET', '/insight/at-risk?limit=50')).data
    assert.ok(api.items.length > 0, 'the demo data has customers at risk')
    await page.goto(`${kehu.base}/insight/at-risk`)
    const table = page.locator('[data-testid=at-risk-table]')
    await table.locator('tr.el-table__row').first().waitFor()
    assert.equal(await table.locator('tr.el-table__row').count(), api.items.length)
    const first = table.locator('tr.el-table__row').first()
    assert.ok((await first.innerText()).includes(api.items[0].signals[0].text), 'the first row shows its signal')
    await shot(page, 'insight-at-risk')
    await first.locator('a').first().click()
    await page.waitForURL(new RegExp(`/customers/${api.items[0].customer_id}$`))
    await page.locator('[data-testid=customer-header] [data-testid=stage-badge]').waitFor()
  })

  test('insight: the admin sets tier B above A and gets the error next to B', { skip: INSIGHT_SKIP }, async () => {
    await page.goto(`${kehu.base}/insight/settings`)
    await page.locator('[data-testid=insight-settings]').waitFor()
    await page.locator('[data-testid=tier-method] label', { hasText: '按 12 个月贡献门槛' }).click()
    const a = Number(await page.locator('[data-testid=tier-a-min] input').inputValue())
    await page.locator('[data-testid=tier-b-min] input').fill(String(a + 1000))
    await page.locator('[data-testid=tier-b-min] input').press('Tab')
    await page.locator('[data-testid=insight-settings-save]').click()
    const item = page.locator('.el-form-item', { has: page.locator('[data-testid=tier-b-min]') })
    const error = item.locator('.el-form-item__error')
    await error.waitFor()
    assert.match(await error.innerText(), /[\u4e00-\u9fff]/)
    await shot(page, 'insight-settings-error')
    // nothing was saved
    const s = (await admin.req('GET', '/insight/settings')).data
    assert.ok(s.tier.b_min_fen <= s.tier.a_min_fen)
  })

  test('insight: run now (admin) and watch the run finish', { skip: INSIGHT_SKIP }, async () => {
    await page.goto(`${kehu.base}/insight/runs`)
    await page.locator('[data-testid=runs-table]').waitFor()
    await page.locator('[data-testid=run-now]').click()
    await page.locator('.el-message', { hasText: '运行完成' }).waitFor({ timeout: 120_000 })
    await page.locator('[data-testid=runs-table] tr.el-table__row', { hasText: '手动' }).first().waitFor()
  })

  test('phone width: the list becomes cards and the menu collapses', async () => {
    await page.setViewportSize(PHONE)
    await page.goto(`${kehu.base}/customers`)
    await page.locator('[data-testid=customer-cards] .card').first().waitFor()
    assert.equal(await page.locator('[data-testid=nav]').count(), 0)
    await shot(page, 'customer-list-phone')
    await page.locator('[data-testid=menu-toggle]').click()
    await page.locator('[data-testid=nav-mobile]').waitFor()
    await page.setViewportSize(DESKTOP)
  })

  test('no console errors, Vue warnings or dialogs', () => {
    assert.deepEqual(problems, [])
  })
})
