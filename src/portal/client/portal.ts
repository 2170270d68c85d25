// The portal's only script (bundled by scripts/build-portal.mjs; the CSP allows no inline code). It sends
// forms as JSON to the portal API with the session's CSRF token, shows problems beside their fields, and
// runs the WebAuthn ceremonies with @simplewebauthn/browser.
import { startAuthentication, startRegistration } from '@simplewebauthn/browser'

interface Problem { type?: string, title?: string, detail?: string, status?: number, errors?: Array<{ path: string, message: string }> }

const csrf = (): string => document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? ''

async function call (url: string, method: string, body?: unknown): Promise<{ ok: boolean, status: number, data: any }> {
  const res = await fetch(url, {
    method, credentials: 'same-origin',
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), 'x-csrf-token': csrf(), accept: 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
  const text = await res.text()
  let data: any = text
  try { data = text ? JSON.parse(text) : {} } catch { /* not JSON */ }
  return { ok: res.ok, status: res.status, data }
}

/** Field problems beside their fields (path "body.legal_name" or "legal_name.0"), all of them in the summary. */
function showProblem (scope: HTMLElement, problem: Problem | string): void {
  clearProblems(scope)
  const p: Problem = typeof problem === 'string' ? { detail: problem } : problem
  const summary = scope.querySelector<HTMLElement>('.error-summary') ?? document.querySelector<HTMLElement>('.error-summary')
  const items: Array<{ text: string, target?: string }> = []
  for (const e of p.errors ?? []) {
    const name = e.path.replace(/^(body|querystring|params)\.?/, '').split('.')[0] ?? ''
    const field = scope.querySelector<HTMLElement>(`[data-field="${CSS.escape(name)}"]`)
    if (field) {
      const slot = field.querySelector<HTMLElement>('.field-error')
      if (slot) { slot.textContent = e.message; slot.hidden = false }
      field.classList.add('has-error')
      const input = field.querySelector<HTMLElement>('input, textarea, select')
      if (input) { input.setAttribute('aria-invalid', 'true'); if (slot?.id) input.setAttribute('aria-describedby', slot.id) }
      items.push({ text: `${field.querySelector('label, legend')?.textContent ?? name}: ${e.message}`, ...(input?.id ? { target: input.id } : {}) })
    } else {
      items.push({ text: `${name || 'request'}: ${e.message}` })
    }
  }
  if (items.length === 0) items.push({ text: p.detail ?? p.title ?? 'Something went wrong' })
  if (!summary) { alert(items.map((i) => i.text).join('\n')); return }
  const list = summary.querySelector('ul')!
  list.replaceChildren(...items.map((i) => {
    const li = document.createElement('li')
    if (i.target) { const a = document.createElement('a'); a.href = `#${i.target}`; a.textContent = i.text; li.append(a) } else li.textContent = i.text
    return li
  }))
  summary.hidden = false
  summary.tabIndex = -1
  summary.focus()
}

function clearProblems (scope: HTMLElement): void {
  scope.querySelectorAll<HTMLElement>('.field-error').forEach((e) => { e.hidden = true; e.textContent = '' })
  scope.querySelectorAll('.has-error').forEach((e) => e.classList.remove('has-error'))
  scope.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'))
  const s = scope.querySelector<HTMLElement>('.error-summary'); if (s) s.hidden = true
}

/** Form fields → the API's JSON: names are the API's field names; lists and empty optionals as the API wants. */
function formJson (form: HTMLFormElement): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const el of Array.from(form.elements) as Array<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>) {
    if (!el.name || el.disabled) continue
    const type = el.dataset.type
    if (type === 'list') {
      const list = (out[el.name] as string[] | undefined) ?? []
      if ((el as HTMLInputElement).checked) list.push(el.value)
      out[el.name] = list
    } else if (type === 'lines') {
      out[el.name] = el.value.split(/\r?\n/).map((l) => l.trim()).filter(Boolean)
    } else if (el instanceof HTMLInputElement && el.type === 'checkbox') {
      out[el.name] = el.checked
    } else if (el.value.trim() !== '' || el.dataset.keepEmpty !== undefined) {
      out[el.name] = el.value.trim()
    }
  }
  return out
}

async function stepUp (): Promise<boolean> {
  const opts = await call('/portal/api/step-up/options', 'POST')
  if (!opts.ok) return false
  const response = await startAuthentication({ optionsJSON: opts.data.options })
  const done = await call('/portal/api/step-up/verify', 'POST', { challenge_id: opts.data.challenge_id, response })
  return done.ok
}

function go (next: string | undefined, data: any): void {
  if (!next) { location.reload(); return }
  location.assign(next.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(String(data?.[k] ?? ''))))
}

async function submitApiForm (form: HTMLFormElement): Promise<void> {
  const button = form.querySelector<HTMLButtonElement>('button[type="submit"]')
  if (button) button.disabled = true
  try {
    const method = (form.dataset.method ?? 'POST').toUpperCase()
    const body = method === 'DELETE' ? undefined : formJson(form)
    let res = await call(form.dataset.api!, method, body)
    if (!res.ok && res.data?.type?.endsWith(':step-up-required')) {
      if (await stepUp()) res = await call(form.dataset.api!, method, body)
    }
    if (!res.ok) { showProblem(form, res.data); return }
    if (res.status === 401) { location.assign('/portal/login'); return }
    const result = form.dataset.result ? document.getElementById(form.dataset.result) : null
    if (result) { showResult(result, res.data); form.reset(); return }
    go(form.dataset.next, res.data)
  } catch (err) {
    showProblem(form, (err as Error).message)
  } finally {
    if (button) button.disabled = false
  }
}

/** Something shown once (a setup link, an enrolment code): into its region, with a copy button. */
function showResult (region: HTMLElement, data: Record<string, unknown>): void {
  region.hidden = false
  region.querySelectorAll<HTMLElement>('[data-value]').forEach((el) => {
    const v = data[el.dataset.value!]
    el.textContent = v === undefined || v === null ? '' : String(v)
  })
  region.focus()
}

async function passkey (el: HTMLElement): Promise<void> {
  const scope = (el.closest('form') ?? el.closest('main') ?? document.body) as HTMLElement
  clearProblems(scope)
  try {
    const kind = el.dataset.passkey
    if (kind === 'login') {
      const opts = await call('/portal/api/login/options', 'POST')
      if (!opts.ok) return showProblem(scope, opts.data)
      const response = await startAuthentication({ optionsJSON: opts.data.options })
      const res = await call('/portal/api/login/verify', 'POST', { challenge_id: opts.data.challenge_id, response })
      if (!res.ok) return showProblem(scope, res.data)
      location.assign(el.dataset.next ?? '/portal/')
    } else {
      const form = el as HTMLFormElement
      const name = (form.elements.namedItem('name') as HTMLInputElement | null)?.value.trim() || 'Passkey'
      const setup = kind === 'setup'
      const opts = setup ? await call('/portal/api/setup/options', 'POST', { token: form.dataset.token }) : await call('/portal/api/passkeys/options', 'POST')
      if (!opts.ok) return showProblem(scope, opts.data)
      const response = await startRegistration({ optionsJSON: opts.data.options })
      const res = setup
        ? await call('/portal/api/setup/verify', 'POST', { token: form.dataset.token, challenge_id: opts.data.challenge_id, response, name })
        : await call('/portal/api/passkeys', 'POST', { challenge_id: opts.data.challenge_id, response, name })
      if (!res.ok) return showProblem(scope, res.data)
      go(form.dataset.next, res.data)
    }
  } catch (err) {
    showProblem(scope, `The passkey step did not complete: ${(err as Error).message}`)
  }
}

document.addEventListener('submit', (event) => {
  const form = event.target as HTMLFormElement
  if (form.dataset.passkey) { event.preventDefault(); void passkey(form) } else if (form.dataset.api) { event.preventDefault(); void submitApiForm(form) }
})

document.addEventListener('click', (event) => {
  const el = (event.target as HTMLElement).closest<HTMLElement>('button[data-passkey], button[data-copy]')
  if (!el) return
  if (el.dataset.passkey) { void passkey(el); return }
  const source = document.getElementById(el.dataset.copy!)
  if (source) void navigator.clipboard.writeText(source.textContent ?? '').then(() => { el.textContent = 'Copied' })
})

// A CSR from a file: read into the text box the form sends (the file itself never leaves as a file).
document.addEventListener('change', (event) => {
  const input = event.target as HTMLInputElement
  if (input.type !== 'file' || !input.dataset.into) return
  const file = input.files?.[0]
  const target = document.getElementById(input.dataset.into) as HTMLTextAreaElement | null
  if (file && target) void file.text().then((text) => { target.value = text })
})

// A typed confirmation: the button stays disabled until the text matches (the server checks it too).
document.addEventListener('input', (event) => {
  const input = event.target as HTMLInputElement
  if (!input.dataset.confirm) return
  const button = input.form?.querySelector<HTMLButtonElement>('button[type="submit"]')
  if (button) button.disabled = input.value !== input.dataset.confirm
})
document.querySelectorAll<HTMLInputElement>('input[data-confirm]').forEach((i) => {
  const b = i.form?.querySelector<HTMLButtonElement>('button[type="submit"]'); if (b) b.disabled = true
})
