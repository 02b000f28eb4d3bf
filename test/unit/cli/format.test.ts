import { expect } from 'chai';
import { clip, escapeControls, jsonLines, renderTable } from '../../../src/cli/format';

describe('CLI output escaping', () => {
  it('turns every C0, DEL and C1 character into a visible escape and leaves other text alone', () => {
    expect(escapeControls('\x1b[2J\x1b]0;owned\x07line\r\n\ttab\x00\x7f\u009b31m')).to.equal(
      '\\x1b[2J\\x1b]0;owned\\x07line\\r\\n\\ttab\\x00\\x7f\\u009b31m',
    );
    expect(escapeControls('Beneficiary — 账户 closed ✓ \u00a0')).to.equal('Beneficiary — 账户 closed ✓ \u00a0');
    for (let code = 0; code <= 0xa0; code++) {
      const escaped = escapeControls(String.fromCharCode(code));
      const control = code < 0x20 || (code >= 0x7f && code <= 0x9f);
      // eslint-disable-next-line no-control-regex -- asserting no raw control character is left
      expect(/[\u0000-\u001f\u007f-\u009f]/.test(escaped), `U+${code.toString(16)}`).to.equal(false);
      expect(escaped.length > 1, `U+${code.toString(16)}`).to.equal(control);
    }
  });

  it('escapes table cells before measuring them, so columns stay aligned', () => {
    const lines = renderTable(
      ['A', 'B'],
      [
        ['\x1b[2J', 'x'],
        ['ok', 'y'],
      ],
    );
    expect(lines).to.deep.equal(['A        B', '\\x1b[2J  x', 'ok       y']);
    expect(clip('a\x1b[1Ab', 60)).to.equal('a\\x1b[1Ab');
  });

  it('keeps JSON lines valid JSON with DEL and C1 escaped too', () => {
    const value = { text: '\x1b[2J\x7f\u009b\r\n' };
    const [line] = jsonLines([value]);
    expect(line).to.equal('{"text":"\\u001b[2J\\u007f\\u009b\\r\\n"}');
    expect(JSON.parse(line ?? '')).to.deep.equal(value);
  });
});
