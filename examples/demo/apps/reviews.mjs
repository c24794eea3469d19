// reviews: what readers wrote about each book, with their star ratings, which it asks the
// ratings service (Python) for through its sidecar. Two versions of it run at once, and the
// mesh sends 10% of the traffic to v2 (the canary): v2 sorts reviews by rating, marks the
// top one, and is a little slower, as new versions often are.
import { SERVICE, VERSION, sendJson, serve, work } from './serve.mjs';
import { failureOf, getFrom } from './mesh-client.mjs';

const REVIEWS = {
  1: [
    { reviewer: 'ada', text: 'A creature story that is really about responsibility. Still unsettling.' },
    { reviewer: 'grace', text: 'The frame narrative is clever; the middle drags a little.' },
  ],
  2: [
    { reviewer: 'alan', text: 'Witty from the first line to the last.' },
    { reviewer: 'barbara', text: 'Elizabeth Bennet remains one of the great characters.' },
  ],
  3: [
    { reviewer: 'edsger', text: 'Half adventure, half encyclopedia of whaling. I loved both halves.' },
    { reviewer: 'margaret', text: 'Long, but the storm chapters are unforgettable.' },
  ],
  4: [
    { reviewer: 'donald', text: 'A whole town, seen from inside every head.' },
    { reviewer: 'frances', text: 'Patient and generous; rewards a slow read.' },
  ],
  5: [
    { reviewer: 'ken', text: 'Short, sharp, and surprisingly political.' },
    { reviewer: 'radia', text: 'The far-future beach scene stays with you.' },
  ],
};

serve(async (req, res, url) => {
  const m = /^\/reviews\/(\d+)$/.exec(url.pathname);
  if (req.method !== 'GET' || !m) {
    sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
    return;
  }
  const id = Number(m[1]);
  const reviews = REVIEWS[id];
  if (!reviews) {
    sendJson(res, 404, { error: `no reviews for book ${id}` });
    return;
  }
  await (VERSION === 'v2' ? work(8, 30) : work(2, 10));
  let ratings = { available: false, error: 'not asked' };
  try {
    const r = await getFrom('ratings', `/ratings/${id}`);
    ratings =
      r.status === 200 && r.json
        ? { available: true, average: r.json.average, count: r.json.count, servedBy: r.json.servedBy, runtime: r.json.runtime }
        : { available: false, error: failureOf(r) };
    if (ratings.available) {
      for (const rev of reviews) rev.stars = r.json.ratings?.[rev.reviewer];
    }
  } catch (err) {
    ratings = { available: false, error: String(err.message ?? err) };
  }
  let out = reviews.map((r) => ({ ...r }));
  if (VERSION === 'v2') {
    out.sort((a, b) => (b.stars ?? 0) - (a.stars ?? 0));
    if (out[0]) out[0].top = true;
  }
  sendJson(res, 200, { bookId: id, version: VERSION, servedBy: `${SERVICE} ${VERSION}`, reviews: out, ratings });
});
