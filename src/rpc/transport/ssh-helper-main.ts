/**
 * Entry point of the `ferry-ssh-helper` bundle (scripts/build.sh): bin/ferry-ssh-helper.js
 * loads it and calls runSshHelper with the command-line arguments.
 * @module
 */
export { runSshHelper } from './ssh-helper.js';
