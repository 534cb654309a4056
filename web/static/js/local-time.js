// The server-rendered pages (board, result, verify: crates/server/src/web/public.rs) write
// each time as UTC with its zone's name inside <time datetime="…Z">. This script rewrites
// them in the reader's time zone and language with the formatting every other page uses
// (ui.js formatTime), keeping the UTC text as a tooltip; without JavaScript the UTC text stays.
import { formatTime } from './ui.js';

for (const el of document.querySelectorAll('time[datetime]')) {
  const ms = Date.parse(el.getAttribute('datetime'));
  if (!Number.isFinite(ms)) continue;
  if (!el.title) el.title = el.textContent;
  el.textContent = formatTime(Math.floor(ms / 1000), document.documentElement.lang || 'en');
  el.dataset.localised = 'true';
}
