// web: the bookstore's front door. It asks catalog for the books, then reviews for each
// book (reviews asks ratings, in Python), all through its sidecar, and renders one page.
// How it reaches each service is the sidecar's business: catalog through an explicit
// upstream listener (UPSTREAM_CATALOG), reviews through the HTTP proxy listener
// (HTTP_PROXY, `GET http://reviews/reviews/1`), as mesh.yaml says.
import { SERVICE, VERSION, sendHtml, sendJson, serve } from './serve.mjs';
import { failureOf, getFrom, routeOf } from './mesh-client.mjs';

const esc = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const stars = (n) => {
  const full = Math.max(0, Math.min(5, Math.round(Number(n) || 0)));
  return '★'.repeat(full) + '☆'.repeat(5 - full);
};

/** The books with their reviews, as one object; partial when some call failed. */
const loadStore = async () => {
  const catalog = await getFrom('catalog', '/books');
  if (catalog.status !== 200 || !catalog.json) {
    return { ok: false, error: `catalog: ${failureOf(catalog)}`, books: [] };
  }
  const books = await Promise.all(
    catalog.json.books.map(async (book) => {
      try {
        const r = await getFrom('reviews', `/reviews/${book.id}`);
        if (r.status === 200 && r.json) return { ...book, reviews: r.json };
        return { ...book, reviewsError: failureOf(r) };
      } catch (err) {
        return { ...book, reviewsError: String(err.message ?? err) };
      }
    }),
  );
  return { ok: true, books, catalogServedBy: catalog.json.servedBy };
};

const CSS = `
  :root { --ink:#1d2433; --muted:#5c6577; --line:#e3e6ec; --bg:#f6f7f9; --v1:#d08c00; --v2:#c0392b; }
  * { box-sizing: border-box; }
  body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--ink); background:var(--bg); }
  header { background:#1d2433; color:#fff; padding:18px 32px; display:flex; align-items:baseline; gap:16px; }
  header h1 { margin:0; font-size:22px; letter-spacing:.3px; }
  header span { color:#aab3c5; font-size:13px; }
  main { max-width:1100px; margin:24px auto; padding:0 24px; display:grid; grid-template-columns:repeat(auto-fill,minmax(320px,1fr)); gap:18px; }
  .book { background:#fff; border:1px solid var(--line); border-radius:10px; overflow:hidden; display:flex; flex-direction:column; }
  .cover { padding:16px 18px; color:#fff; }
  .cover h2 { margin:0; font-size:19px; }
  .cover p { margin:2px 0 0; opacity:.85; font-size:13px; }
  .body { padding:12px 18px 16px; flex:1; }
  .rating { font-size:18px; color:var(--v1); }
  .rating small { color:var(--muted); font-size:12px; margin-left:6px; }
  .v2 .rating, .v2 .stars { color:var(--v2); }
  ul { list-style:none; padding:0; margin:10px 0 0; }
  li { border-top:1px solid var(--line); padding:8px 0; }
  li b { font-weight:600; }
  .stars { color:var(--v1); letter-spacing:1px; font-size:13px; }
  .top { font-size:11px; background:var(--v2); color:#fff; border-radius:4px; padding:1px 6px; margin-left:6px; }
  .badge { display:inline-block; font-size:11px; border-radius:999px; padding:2px 9px; border:1px solid var(--line); color:var(--muted); margin-top:10px; }
  .badge.v2 { border-color:var(--v2); color:var(--v2); }
  .error { color:#b00020; font-size:13px; }
  footer { max-width:1100px; margin:8px auto 40px; padding:0 24px; color:var(--muted); font-size:12.5px; }
  code { background:#eceff4; padding:1px 5px; border-radius:4px; }
`;

const renderBook = (b) => {
  const rv = b.reviews;
  const version = rv?.version ?? 'none';
  const ratings = rv?.ratings;
  const rating = ratings?.available
    ? `<div class="rating" data-rating="${esc(ratings.average)}">${stars(ratings.average)}<small>${esc(ratings.average)} from ${esc(ratings.count)} ratings</small></div>`
    : `<div class="error">ratings unavailable: ${esc(ratings?.error ?? 'no reviews')}</div>`;
  const list = rv
    ? `<ul>${rv.reviews
        .map(
          (r) =>
            `<li class="review"><b>${esc(r.reviewer)}</b> <span class="stars">${r.stars === undefined ? '' : stars(r.stars)}</span>${r.top ? '<span class="top">top review</span>' : ''}<br>${esc(r.text)}</li>`,
        )
        .join('')}</ul>`
    : `<div class="error">reviews unavailable: ${esc(b.reviewsError)}</div>`;
  const badge = rv
    ? `<span class="badge ${version === 'v2' ? 'v2' : ''}">reviews ${esc(version)}${ratings?.available ? ` · ratings by ${esc(ratings.runtime)}` : ''}</span>`
    : '';
  return `<article class="book ${version === 'v2' ? 'v2' : ''}" data-book-id="${esc(b.id)}" data-reviews-version="${esc(version)}">
  <div class="cover" style="background:${esc(b.color)}"><h2>${esc(b.title)}</h2><p>${esc(b.author)}, ${esc(b.year)}</p></div>
  <div class="body">${rating}${list}${badge}</div>
</article>`;
};

serve(async (req, res, url) => {
  if (req.method === 'GET' && url.pathname === '/api/books') {
    const store = await loadStore();
    sendJson(res, store.ok ? 200 : 502, store);
    return;
  }
  if (req.method === 'GET' && url.pathname === '/') {
    const store = await loadStore();
    const content = store.ok
      ? store.books.map(renderBook).join('\n')
      : `<p class="error">The catalog is unavailable: ${esc(store.error)}</p>`;
    sendHtml(
      res,
      store.ok ? 200 : 502,
      `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Weft Bookstore</title><style>${CSS}</style></head>
<body>
<header><h1>Weft Bookstore</h1><span>served by ${esc(SERVICE)} ${esc(VERSION)}, every call through the mesh</span></header>
<main>
${content}
</main>
<footer>
  <p>This page took several hops, each through two <code>weft proxy</code> sidecars with TLS between them:
  ingress → <b>web</b> (Node) → <b>catalog</b> (Node) via ${esc(routeOf('catalog'))};
  web → <b>reviews</b> (Node, 90% v1 / 10% v2) via ${esc(routeOf('reviews'))};
  reviews → <b>ratings</b> (Python standard library).
  Reload to see the canary: books whose reviews came from v2 have red stars and a top review.</p>
</footer>
</body></html>`,
    );
    return;
  }
  sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
});
