// The what-if runs here, off the page's thread, so the page stays responsive while a large
// listing is read and decided. Messages in: { type: 'run', id, question } and
// { type: 'listing', id }; out: progress, the answer's summary, the after listing, or an error.
import { InputError, whatIf } from './turnstile-web.mjs';

/** Changed users sent to the page at most (the count is always whole). */
const SHOWN = 500;

let answer = null;

function post(message) {
  self.postMessage(message);
}

self.onmessage = async ({ data }) => {
  const { id } = data;
  try {
    if (data.type === 'run') {
      answer?.[Symbol.dispose]();
      answer = null;
      answer = await whatIf(data.question, (p) => post({ type: 'progress', id, ...p }));
      post({ type: 'answer', id, summary: answer.summary(SHOWN) });
    } else if (data.type === 'listing') {
      if (!answer) throw new InputError(['no what-if has been answered yet']);
      post({ type: 'listing', id, parts: answer.afterListing() });
    }
  } catch (e) {
    post({ type: 'error', id, lines: e instanceof InputError ? e.lines : [`${e?.name ?? 'Error'}: ${e?.message ?? e}`], input: e instanceof InputError });
  }
};

post({ type: 'ready' });
