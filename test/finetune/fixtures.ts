// Small files in the exact public formats (GLUE TSVs, SQuAD JSON, MRQA jsonl, CoNLL-2000),
// written by the tests themselves since none of these data sets can be had offline.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export class TempDir {
  readonly path: string;

  constructor(prefix = 'electra-ft-') {
    this.path = mkdtempSync(join(tmpdir(), prefix));
  }

  /** Writes a file (creating folders) and returns its path. */
  write(relative: string, content: string | Uint8Array): string {
    const full = join(this.path, relative);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    return full;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export const tsv = (rows: string[][]): string => rows.map((r) => r.join('\t') + '\n').join('');

// GLUE layouts, one or two rows each, copied in shape from the public distribution.
export const glue = {
  colaTrain: tsv([
    ['gj04', '1', '', "Our friends won't buy this analysis, let alone the next one we propose."],
    ['gj04', '0', '*', "One more pseudo generalization and I'm giving up."],
  ]),
  colaTest: tsv([['index', 'sentence'], ['0', 'Bill whistled past the house.']]),
  sstDev: tsv([['sentence', 'label'], ["it 's a charming and often affecting journey . ", '1'], ['unflinchingly bleak and desperate ', '0']]),
  sstTest: tsv([['index', 'sentence'], ['0', 'uneasy mishmash of styles and genres .']]),
  mrpcTrain: tsv([
    ['Quality', '#1 ID', '#2 ID', '#1 String', '#2 String'],
    ['1', '702876', '702977', 'Amrozi accused his brother , whom he called " the witness " , of deliberately distorting his evidence .',
      'Referring to him as only " the witness " , Amrozi accused his brother of deliberately distorting his evidence .'],
    ['0', '2108705', '2108831', "Yucaipa owned Dominick 's before selling the chain to Safeway in 1998 for $ 2.5 billion .",
      "Yucaipa bought Dominick 's in 1995 for $ 693 million and sold it to Safeway for $ 1.8 billion in 1998 ."],
  ]),
  stsDev: tsv([
    ['index', 'genre', 'filename', 'year', 'old_index', 'source1', 'source2', 'sentence1', 'sentence2', 'score'],
    ['0', 'main-captions', 'MSRvid', '2012test', '0000', 'none', 'none', 'A man with a hard hat is dancing.', 'A man wearing a hard hat is dancing.', '5.000'],
    ['1', 'main-captions', 'MSRvid', '2012test', '0002', 'none', 'none', 'A young child is riding a horse.', 'A child is riding a horse.', '4.750'],
  ]),
  stsTest: tsv([
    ['index', 'genre', 'filename', 'year', 'old_index', 'source1', 'source2', 'sentence1', 'sentence2'],
    ['0', 'main-captions', 'MSRvid', '2012test', '0024', 'none', 'none', 'A girl is styling her hair.', 'A girl is brushing her hair.'],
  ]),
  qqpTrain: tsv([
    ['id', 'qid1', 'qid2', 'question1', 'question2', 'is_duplicate'],
    ['133273', '213221', '213222', 'How is the life of a math student? Could you describe your own experiences?', 'Which level of prepration is enough for the exam jlpt5?', '0'],
    ['201841', '303951', '174364', 'How can I create an Android app?'],
    ['402555', '536040', '536041', 'How do I control my horny emotions?', 'How do you control your horniness?', '1'],
  ]),
  qqpTest: tsv([['id', 'question1', 'question2'], ['0', 'Why am I mentally very lonely? How can I solve it?', 'Find the remainder when [math]23^{24}[/math] is divided by 24,23?']]),
  mnliDevMatched: tsv([
    ['index', 'promptID', 'pairID', 'genre', 'sentence1_binary_parse', 'sentence2_binary_parse', 'sentence1_parse', 'sentence2_parse',
      'sentence1', 'sentence2', 'label1', 'label2', 'label3', 'label4', 'label5', 'gold_label'],
    ['0', '63735', '63735n', 'slate', '( ( The ( new rights ) ) ...', '( ( Everyone ...', '(ROOT ...)', '(ROOT ...)',
      'The new rights are nice enough', 'Everyone really likes the newest benefits ', 'neutral', 'entailment', 'neutral', 'neutral', 'neutral', 'neutral'],
  ]),
  mnliDevMismatched: tsv([
    ['index', 'promptID', 'pairID', 'genre', 'sentence1_binary_parse', 'sentence2_binary_parse', 'sentence1_parse', 'sentence2_parse',
      'sentence1', 'sentence2', 'label1', 'label2', 'label3', 'label4', 'label5', 'gold_label'],
    ['0', '75290', '75290c', 'letters', '( ( Your contribution ) ...', '( ( Your contribution ) ...', '(ROOT ...)', '(ROOT ...)',
      'Your contribution helped make it possible for us to provide our students with a quality education.',
      "Your contributions were of no help with our students' education.", 'contradiction', 'contradiction', 'contradiction', 'contradiction', 'contradiction', 'contradiction'],
  ]),
  mnliTrain: tsv([
    ['index', 'promptID', 'pairID', 'genre', 'sentence1_binary_parse', 'sentence2_binary_parse', 'sentence1_parse', 'sentence2_parse',
      'sentence1', 'sentence2', 'label1', 'gold_label'],
    ['0', '31193', '31193n', 'government', '( ( Conceptually ...', '( ( Product ...', '(ROOT ...)', '(ROOT ...)',
      'Conceptually cream skimming has two basic dimensions - product and geography.', 'Product and geography are what make cream skimming work. ', 'neutral', 'neutral'],
  ]),
  mnliDiagnostic: tsv([['index', 'sentence1', 'sentence2'], ['0', 'The cat sat on the mat.', 'The cat did not sit on the mat.']]),
  qnliDev: tsv([
    ['index', 'question', 'sentence', 'label'],
    ['0', 'What came into force after the new constitution was herald?', 'As of that day, the new constitution heralding the Second Republic came into force.', 'entailment'],
  ]),
  rteTrain: tsv([
    ['index', 'sentence1', 'sentence2', 'label'],
    ['0', 'No Weapons of Mass Destruction Found in Iraq Yet.', 'Weapons of Mass Destruction Found in Iraq.', 'not_entailment'],
  ]),
};

// CoNLL-2000 chunking: word, POS, chunk tag (BIO).
export const conllTrain = [
  'Confidence NN B-NP',
  'in IN B-PP',
  'the DT B-NP',
  'pound NN I-NP',
  'is VBZ B-VP',
  'widely RB I-VP',
  'expected VBN I-VP',
  '. . O',
  '',
  'Chancellor NNP O',
  'of IN B-PP',
  'the DT B-NP',
  'Exchequer NNP I-NP',
  '',
].join('\n');

/** A SQuAD 2.0 file: one answerable and one unanswerable question over one paragraph. */
export function squadV2(): string {
  return JSON.stringify({
    version: 'v2.0',
    data: [{
      title: 'Super_Bowl_50',
      paragraphs: [{
        context: 'Super Bowl 50 was an American football game. The Denver Broncos defeated the Carolina Panthers 24–10.',
        qas: [
          {
            question: 'Who won Super Bowl 50?', id: '56be4db0acb8001400a502ec', is_impossible: false,
            answers: [{ text: 'Denver Broncos', answer_start: 49 }, { text: 'The Denver Broncos', answer_start: 45 }],
          },
          {
            question: 'Who lost Super Bowl 49?', id: '5ad39d53604f3c001a3fe8d1', is_impossible: true,
            answers: [], plausible_answers: [{ text: 'Carolina Panthers', answer_start: 77 }],
          },
        ],
      }],
    }],
  });
}

/** An MRQA jsonl file: header line and one paragraph (char_spans inclusive, as MRQA writes them). */
export function mrqaJsonl(): string {
  const context = 'The Eiffel Tower is in Paris. It was built in 1889 by Gustave Eiffel.';
  return [
    JSON.stringify({ header: { dataset: 'NewsQA', split: 'train' } }),
    JSON.stringify({
      id: 'p1', context, context_tokens: [['The', 0], ['Eiffel', 4]],
      qas: [
        {
          qid: 'a1b2', question: 'When was the tower built?', question_tokens: [['When', 0]],
          answers: ['1889'], detected_answers: [{ text: '1889', char_spans: [[46, 49]], token_spans: [[9, 9]] }],
        },
        {
          qid: 'c3d4', question: 'Who built it?', question_tokens: [['Who', 0]],
          answers: ['Gustave Eiffel', 'Eiffel'], detected_answers: [{ text: 'Gustave Eiffel', char_spans: [[54, 67]], token_spans: [[12, 13]] }],
        },
      ],
    }),
  ].join('\n') + '\n';
}
