/**
 * The front end's version: equal to `version` in package.json and `__version__` in
 * jupyter_mlops/__init__.py (a unit test checks all three), compared with the server
 * extension's `GET version` to detect a mismatch.
 */
export const FRONTEND_VERSION = '0.1.0';
