// catalog: the bookstore's list of books. A leaf service: it calls nobody.
import { SERVICE, VERSION, sendJson, serve, work } from './serve.mjs';

const BOOKS = [
  { id: 1, title: 'Frankenstein', author: 'Mary Shelley', year: 1818, color: '#6b8e23' },
  { id: 2, title: 'Pride and Prejudice', author: 'Jane Austen', year: 1813, color: '#b5651d' },
  { id: 3, title: 'Moby-Dick', author: 'Herman Melville', year: 1851, color: '#2f6690' },
  { id: 4, title: 'Middlemarch', author: 'George Eliot', year: 1871, color: '#7b3f61' },
  { id: 5, title: 'The Time Machine', author: 'H. G. Wells', year: 1895, color: '#3a506b' },
];

serve(async (req, res, url) => {
  await work(1, 6);
  if (req.method === 'GET' && url.pathname === '/books') {
    sendJson(res, 200, { books: BOOKS, servedBy: `${SERVICE} ${VERSION}` });
    return;
  }
  const m = /^\/books\/(\d+)$/.exec(url.pathname);
  if (req.method === 'GET' && m) {
    const book = BOOKS.find((b) => b.id === Number(m[1]));
    if (book) sendJson(res, 200, { ...book, servedBy: `${SERVICE} ${VERSION}` });
    else sendJson(res, 404, { error: `no book ${m[1]}` });
    return;
  }
  sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
});
