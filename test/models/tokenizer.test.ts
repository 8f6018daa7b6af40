import { describe, expect, it } from 'vitest';
import { BOS, CharTokenizer, EOS, PAD } from '../../models/tokenizer.js';

describe('CharTokenizer', () => {
  const tok = new CharTokenizer();

  it('round-trips text and places the specials', () => {
    const ids = tok.encode('57+68=125', { eos: true });
    expect(ids[0]).toBe(BOS);
    expect(ids.at(-1)).toBe(EOS);
    expect(ids.length).toBe(11);
    expect(tok.decode(ids)).toBe('57+68=125');
    expect(tok.decode([PAD, ...tok.encode('9-3=', { bos: false })])).toBe('9-3=');
  });

  it('stops decoding at EOS and rejects unknown characters', () => {
    expect(tok.decode([...tok.encode('12', { eos: true }), ...tok.encode('34', { bos: false })])).toBe('12');
    expect(() => tok.encode('1*2')).toThrow(/not in alphabet/);
    expect(() => new CharTokenizer('aa')).toThrow(/duplicate/);
  });

  it('serialises to JSON and back', () => {
    const back = CharTokenizer.fromJSON(JSON.parse(JSON.stringify(tok.toJSON())));
    expect(back.vocabSize).toBe(tok.vocabSize);
    expect(back.encode('3+4=7')).toEqual(tok.encode('3+4=7'));
    expect(() => CharTokenizer.fromJSON({ kind: 'bpe' } as never)).toThrow(/bad tokenizer/);
  });

  it('encodes prompt text as BOS + characters and refuses chat messages', () => {
    expect(tok.renderPrompt('3+4=')).toBe('3+4=');
    expect(tok.encodePrompt('3+4=')).toEqual(tok.encode('3+4='));
    expect(tok.encodePrompt('3+4=')[0]).toBe(BOS);
    expect([...tok.stopIds]).toEqual([EOS]);
    expect(() => tok.encodePrompt([{ role: 'user', content: '3+4=' }])).toThrow('the built-in model has no chat template: give `prompt` text');
  });
});
