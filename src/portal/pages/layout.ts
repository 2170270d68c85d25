import { html, type Html } from '../html.js'
import type { PortalUserView } from '../users.js'
import { isOperator } from '../access.js'

export interface PageContext { user?: PortalUserView, csrf?: string, path: string }

const nav = (ctx: PageContext): Html => {
  const link = (href: string, label: string): Html => html`<li><a href="${href}"${ctx.path === href || (href !== '/portal/' && ctx.path.startsWith(href + '/')) ? html` aria-current="page"` : ''}>${label}</a></li>`
  const operator = ctx.user !== undefined && isOperator(ctx.user)
  return html`<nav aria-label="Main"><ul>
    ${link('/portal/', 'Dashboard')}
    ${link('/portal/organisations', 'Organisations')}
    ${link('/portal/certificates', 'Certificates')}
    ${operator ? [link('/portal/users', 'Users'), link('/portal/directory', 'Directory'), link('/portal/event-subscriptions', 'Event subscriptions'), link('/portal/audit', 'Audit log')] : ''}
    ${link('/portal/account', 'Account')}
  </ul>
  <form data-api="/portal/api/logout" data-next="/portal/login" class="inline"><button type="submit" class="secondary">Sign out</button></form>
  </nav>`
}

/** One page: one h1 naming it, the signed-in user's navigation, our script and stylesheet (no inline code). */
export function page (ctx: PageContext, title: string, body: Html | Html[], opts: { lead?: Html } = {}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} — Ecosystem Directory</title>
${ctx.csrf ? html`<meta name="csrf-token" content="${ctx.csrf}">` : ''}
<link rel="stylesheet" href="/portal/assets/portal.css">
<script type="module" src="/portal/assets/portal.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to main content</a>
<header class="top">
  <a class="brand" href="/portal/">Ecosystem Directory</a>
  ${ctx.user ? html`<span class="who">${ctx.user.name ?? ctx.user.email} · ${ctx.user.operator_role ?? 'organisation user'}</span>` : ''}
  ${ctx.user ? nav(ctx) : ''}
</header>
<main id="main">
<h1>${title}</h1>
${opts.lead ?? ''}
${body}
</main>
</body>
</html>
`.value
}

/** A form the script sends as JSON to the portal API; problems appear in the summary and beside their fields. */
export function apiForm (attrs: { api: string, method?: string, next?: string, result?: string, label?: string, button?: string }, fields: Html | Html[], submit: string, cls = ''): Html {
  return html`<form data-api="${attrs.api}" ${attrs.method ? html`data-method="${attrs.method}"` : ''} ${attrs.next ? html`data-next="${attrs.next}"` : ''} ${attrs.result ? html`data-result="${attrs.result}"` : ''} ${attrs.label ? html`aria-label="${attrs.label}"` : ''} class="${cls}" novalidate>
  <div class="error-summary" role="alert" hidden><h2>There is a problem</h2><ul></ul></div>
  ${fields}
  <button type="submit"${attrs.button ? html` class="${attrs.button}"` : ''}>${submit}</button>
</form>`
}

let fieldCounter = 0
const fid = (name: string): string => `f-${name.replace(/[^a-z0-9]/gi, '-')}-${++fieldCounter}`

export function textField (name: string, label: string, opts: { hint?: string, value?: string, required?: boolean, type?: string, autocomplete?: string } = {}): Html {
  const id = fid(name)
  return html`<div class="field" data-field="${name}">
  <label for="${id}">${label}</label>
  ${opts.hint ? html`<p class="hint" id="${id}-hint">${opts.hint}</p>` : ''}
  <p class="field-error" id="${id}-error" hidden></p>
  <input id="${id}" name="${name}" type="${opts.type ?? 'text'}" ${opts.value !== undefined ? html`value="${opts.value}"` : ''} ${opts.required ? html`required` : ''} ${opts.autocomplete ? html`autocomplete="${opts.autocomplete}"` : html`autocomplete="off"`} ${opts.hint ? html`aria-describedby="${id}-hint"` : ''}>
</div>`
}

export function textArea (name: string, label: string, opts: { hint?: string, lines?: boolean, rows?: number, value?: string, id?: string, after?: Html } = {}): Html {
  const id = opts.id ?? fid(name)
  return html`<div class="field" data-field="${name}">
  <label for="${id}">${label}</label>
  ${opts.hint ? html`<p class="hint" id="${id}-hint">${opts.hint}</p>` : ''}
  <p class="field-error" id="${id}-error" hidden></p>
  <textarea id="${id}" name="${name}" rows="${opts.rows ?? 4}" ${opts.lines ? html`data-type="lines"` : ''} ${opts.hint ? html`aria-describedby="${id}-hint"` : ''}>${opts.value ?? ''}</textarea>
  ${opts.after ?? ''}
</div>`
}

export function selectField (name: string, label: string, options: Array<[string, string]>, opts: { value?: string, hint?: string } = {}): Html {
  const id = fid(name)
  return html`<div class="field" data-field="${name}">
  <label for="${id}">${label}</label>
  ${opts.hint ? html`<p class="hint">${opts.hint}</p>` : ''}
  <p class="field-error" id="${id}-error" hidden></p>
  <select id="${id}" name="${name}">${options.map(([v, l]) => html`<option value="${v}"${opts.value === v ? html` selected` : ''}>${l}</option>`)}</select>
</div>`
}

export function checkboxes (name: string, legend: string, options: Array<[string, string]>, checked: string[] = []): Html {
  return html`<fieldset class="field" data-field="${name}">
  <legend>${legend}</legend>
  <p class="field-error" hidden></p>
  ${options.map(([v, l]) => { const id = fid(`${name}-${v}`); return html`<div class="check"><input type="checkbox" id="${id}" name="${name}" value="${v}" data-type="list"${checked.includes(v) ? html` checked` : ''}><label for="${id}">${l}</label></div>` })}
</fieldset>`
}

export const statusTag = (s: string): Html => html`<span class="tag tag-${s}">${s}</span>`

export function table (caption: string, head: string[], rows: Html[][], empty = 'None yet.'): Html {
  if (rows.length === 0) return html`<p class="empty">${caption}: ${empty}</p>`
  return html`<div class="table-wrap"><table><caption>${caption}</caption><thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
  <tbody>${rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table></div>`
}

/** A summary list: term, then its value. */
export const summary = (rows: Array<[string, Html | string | number | null | undefined]>): Html =>
  html`<dl class="summary">${rows.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v ?? '—'}</dd></div>`)}</dl>`

/** Page-numbered navigation for a server-paginated list, keeping the list's filters. */
export function pager (path: string, params: Record<string, string | undefined>, page: number, pages: number, label: string): Html {
  if (pages <= 1) return html``
  const href = (n: number): string => {
    const q = new URLSearchParams(Object.entries({ ...params, page: String(n) }).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''))
    return `${path}?${q.toString()}`
  }
  return html`<nav class="pager" aria-label="${label} pages"><ul>
    ${page > 1 ? html`<li><a href="${href(page - 1)}" rel="prev">Previous page</a></li>` : ''}
    <li aria-current="page">Page ${page} of ${pages}</li>
    ${page < pages ? html`<li><a href="${href(page + 1)}" rel="next">Next page</a></li>` : ''}
  </ul></nav>`
}

/**
 * Where a secret shown once appears (a setup link, an enrolment code) after its form succeeds, with a copy
 * button. `fields` maps the response's members to their labels.
 */
export function onceRegion (id: string, heading: string, fields: Array<[string, string]>, note: string): Html {
  return html`<div id="${id}" class="once" role="status" tabindex="-1" hidden>
  <h3>${heading}</h3>
  <p>${note}</p>
  ${fields.map(([key, label]) => html`<p class="label">${label}</p><code id="${id}-${key}" data-value="${key}"></code>
  <button type="button" class="secondary" data-copy="${id}-${key}">Copy ${label.toLowerCase()}</button>`)}
</div>`
}

export const notice = (text: Html | string): Html => html`<p class="notice">${text}</p>`
