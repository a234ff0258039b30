// The SpamAssassin e-mail task: what the model reads of a raw message, and a split with no message
// text in both train and dev.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emailText, spamAssassinEmails, spamAssassinExamples, spamSplitOf } from '../../src/finetune/data/spam-assassin.js';

test('a message is its subject and readable text: other headers, attachments and HTML tags are dropped, quoted-printable decoded', () => {
  const raw = [
    'From someone@example.com  Mon Aug  5 10:00:00 2002',
    'Received: from mail.example.com by relay',
    'Subject: Cheap',
    '  offers',
    'Content-Type: multipart/mixed; boundary="XX"',
    '',
    'preamble nobody reads',
    '--XX',
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Buy n=',
    'ow for 5=24',
    '--XX',
    'Content-Type: text/html',
    '',
    '<html><style>p {color: red}</style><p>Click &amp; <b>win</b></p></html>',
    '--XX',
    'Content-Type: application/octet-stream',
    'Content-Transfer-Encoding: base64',
    '',
    'QUJDREVGRw==',
    '--XX--',
    '',
  ].join('\n');
  assert.equal(emailText(raw), 'Cheap offers Buy now for 5$ Click & win');
  // multipart/alternative: the plain and the HTML part say the same thing once.
  const alt = 'Subject: Hi\nContent-Type: multipart/alternative; boundary=B\n\n--B\nContent-Type: text/plain\n\nhello there\n--B\nContent-Type: text/html\n\n<p>hello there</p>\n--B--\n';
  assert.equal(emailText(alt), 'Hi hello there');
});

test('train and dev share no message text, hold both classes, and dev is about a fifth', () => {
  const train = spamAssassinExamples('train');
  const dev = spamAssassinExamples('dev');
  const trainTexts = new Set(train.map((e) => e.textA.toLowerCase()));
  assert.equal(dev.filter((e) => trainTexts.has(e.textA.toLowerCase())).length, 0);
  assert.ok(dev.every((e) => spamSplitOf(e.textA) === 'dev') && train.every((e) => spamSplitOf(e.textA) === 'train'));
  const emails = spamAssassinEmails();
  assert.equal(emails.length > 5800 && emails.length <= 6046, true, `${emails.length} messages with text`);
  // Copies of a message are kept once.
  assert.equal(new Set(emails.map((e) => e.text.toLowerCase())).size, train.length + dev.length);
  const share = dev.length / (train.length + dev.length);
  assert.ok(share > 0.15 && share < 0.25, `dev share ${share}`);
  for (const split of [train, dev]) {
    const spam = split.filter((e) => e.label === 'spam').length;
    assert.ok(spam > 0.2 * split.length && spam < 0.4 * split.length, `${spam} spam of ${split.length}`);
  }
  assert.throws(() => spamAssassinExamples('test'), /only train and dev/);
});
