import path from 'node:path';
import { expect } from 'chai';
import { checkNodeConfigJson, describeLoadError } from '../../../src/config/parse-errors';

const REPO = path.join(__dirname, '..', '..', '..', '..');
const WHERE = { cwd: REPO, configDirs: [path.join(REPO, 'config')] };

/** The errors node-config 5 throws while loading (lib/util.js loadFile and substituteDeep), word for word. */
describe('config/parse-errors', () => {
  it('names a config file that does not parse, with line and column, relative to the working directory', () => {
    const err = new Error(
      `Cannot parse config file: '${path.join(REPO, 'config', 'local.json')}': SyntaxError: JSON5: invalid character 'S' at 3:7`,
    );
    expect(describeLoadError(err, WHERE)).to.equal(
      'config/local.json: is not valid JSON: invalid character at line 3, column 7',
    );
  });

  it('names an environment variable that is not JSON and the key it sets, never the character it stopped at', () => {
    const err = new SyntaxError("__format parser error in SKYRELAY_PARTNERS: JSON5: invalid character 'k' at 1:44");
    expect(describeLoadError(err, WHERE)).to.equal(
      'skypay.partners: SKYRELAY_PARTNERS is not valid JSON: invalid character at line 1, column 44',
    );
    const unmapped = new SyntaxError('__format parser error in OTHER_JSON: JSON5: invalid end of input at 1:3');
    expect(describeLoadError(unmapped, WHERE)).to.equal(
      'OTHER_JSON is not valid JSON: invalid end of input at line 1, column 3',
    );
  });

  it('names a file that cannot be read, with the reason code', () => {
    const err = new Error(
      'Config file /etc/skyrelay/local.json cannot be read. Error code is: EACCES. Error message is: permission denied',
    );
    expect(describeLoadError(err, WHERE)).to.equal('/etc/skyrelay/local.json: cannot be read (EACCES)');
  });

  it('keeps anything else to its first line, without what it quotes', () => {
    expect(describeLoadError(new Error('Illegal key type "SECRET" here\nstack'), WHERE)).to.equal(
      'the configuration could not be loaded: Illegal key type here',
    );
  });

  it('refuses a NODE_CONFIG or --NODE_CONFIG that is not JSON (node-config would ignore it), never echoing it', () => {
    expect(checkNodeConfigJson({ NODE_CONFIG: '{"server": {"port": 1}}' }, [])).to.deep.equal([]);
    expect(checkNodeConfigJson({ NODE_CONFIG: '' }, [])).to.deep.equal([]);
    expect(checkNodeConfigJson({ NODE_CONFIG: '{\n "admin": {"token": "T0PSECRET",}}' }, [])).to.deep.equal([
      'NODE_CONFIG is not valid JSON: expected double-quoted property name at line 2, column 33',
    ]);
    const [quoted] = checkNodeConfigJson({ NODE_CONFIG: 'T0PSECRET token' }, []);
    expect(quoted).to.equal('NODE_CONFIG is not valid JSON');
    expect(checkNodeConfigJson({}, ['node', 'main.js', '--NODE_CONFIG={"a":'])).to.deep.equal([
      '--NODE_CONFIG is not valid JSON: it ends too early',
    ]);
  });
});
