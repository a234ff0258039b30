// Writes the npm-shipped corpora as plain text for the builder: a line per sentence (Brown) or
// paragraph (SOTU, Moby Dick), a file per document, or one file with blank lines between documents.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCorpus, type CorpusName, type TextDocument } from './corpora.js';

export interface ExportedCorpus {
  files: string[];
  documents: number;
  bytes: number;
}

/** The text of one document: its lines, each ending in '\n' (no blank lines inside). */
export function documentText(doc: TextDocument): string {
  return doc.lines.map((l) => l.trim()).filter((l) => l !== '').map((l) => l + '\n').join('');
}

function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(path + '.partial', text);
  renameSync(path + '.partial', path);
}

/**
 * Writes documents under outputDir: `<prefix>-<id>.txt` each, or with singleFile one `<prefix>.txt`
 * with a blank line between documents. Files appear under their final names only when complete.
 */
export function writeDocuments(prefix: string, docs: readonly TextDocument[], outputDir: string, singleFile = false): ExportedCorpus {
  mkdirSync(outputDir, { recursive: true });
  const texts = docs.map(documentText).filter((t) => t !== '');
  if (singleFile) {
    const text = texts.join('\n');
    const file = join(outputDir, `${safeName(prefix)}.txt`);
    writeAtomic(file, text);
    return { files: [file], documents: texts.length, bytes: Buffer.byteLength(text) };
  }
  const files: string[] = [];
  let bytes = 0;
  docs.forEach((doc) => {
    const text = documentText(doc);
    if (text === '') return;
    const file = join(outputDir, `${safeName(prefix)}-${safeName(doc.id)}.txt`);
    writeAtomic(file, text);
    files.push(file);
    bytes += Buffer.byteLength(text);
  });
  return { files, documents: files.length, bytes };
}

/** Writes a shipped corpus (brown, sotu, mobydick) as text files; see writeDocuments. */
export function exportCorpus(name: CorpusName, outputDir: string, singleFile = false): ExportedCorpus {
  return writeDocuments(name, readCorpus(name), outputDir, singleFile);
}
