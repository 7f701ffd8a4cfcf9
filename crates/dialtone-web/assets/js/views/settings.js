// The Me, Privacy and Devices screens (routes #/me, #/privacy, #/devices). Each lives in
// its own module under ../settings/; this file is the entry the router loads.
export { me } from '../settings/me.js';
export { privacy } from '../settings/privacy.js';
export { devices } from '../settings/devices.js';
