import * as fs from 'fs';
import * as path from 'path';

import { FRONTEND_VERSION } from '../version';

const root = path.join(__dirname, '..', '..', '..', '..');

describe('version', () => {
  it('is the same in version.ts, package.json and the Python package', () => {
    const pkg = JSON.parse(
      fs.readFileSync(path.join(root, 'labextension', 'package.json'), 'utf-8')
    );
    const init = fs.readFileSync(path.join(root, 'jupyter_mlops', '__init__.py'), 'utf-8');
    const python = /^__version__ = "([^"]+)"/m.exec(init)?.[1];
    expect(pkg.version).toBe(FRONTEND_VERSION);
    expect(python).toBe(FRONTEND_VERSION);
  });
});
