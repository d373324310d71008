'use strict';
// Writes testdata/jwt/panva-jose.json: keys and tokens made by jose
// (https://github.com/panva/jose, on npm), a widely used JOSE library for
// JavaScript, over Node's crypto: its key generation, its JWK export, its
// JWT signing (SignJWT) and its other token kinds (unsecured JWTs, JWEs).
// It is independent of the plugin's JOSE code, which is Go's. The file has
// the layout of python-cryptography.json, so one test reads both.
//
// Besides every algorithm under its usual name, EdDSA with Ed25519 is also
// signed under its RFC 9864 name "Ed25519", with a key whose JWK "alg" is
// either name. Invalid tokens carry the reason they must be refused.
// Keys and signatures are random: every run writes a different file.
//
//   npm install --prefix /tmp/jose jose@6.2.19
//   NODE_PATH=/tmp/jose/node_modules node scripts/gen-jwt-jose-tokens.cjs > testdata/jwt/panva-jose.json
const crypto = require('node:crypto');
const jose = require('jose');

// HS* tokens have their own issuer: one issuer is never verified both with
// a shared secret and with public keys.
const ISSUER = 'https://jose.test';
const HMAC_ISSUER = 'https://hs.jose.test';
const AUDIENCE = 'api';
// iat is in 2020: the Go SDK's host emulator runs the module on wazero's
// fake clock, which starts on 2022-01-01.
const IAT = 1600000000;
const EXP = 4102444800;
const NAME = 'Zoë "Z" 山田';

const jwks = [];

// keyPair generates a key pair for alg and publishes its public JWK under
// kid (with the JWK "alg" jwkAlg, if given).
async function keyPair(alg, kid, options, jwkAlg) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true, ...options });
  const jwk = await jose.exportJWK(publicKey);
  jwk.kid = kid;
  if (jwkAlg) {
    jwk.alg = jwkAlg;
  }
  jwks.push(jwk);
  return privateKey;
}

function claims(i, alg, extra = {}) {
  return {
    iss: alg.startsWith('HS') ? HMAC_ISSUER : ISSUER,
    aud: i % 2 ? [AUDIENCE, 'other'] : AUDIENCE,
    sub: `jose-user-${i}`,
    iat: IAT,
    exp: EXP,
    groups: ['x', 'y'],
    name: NAME,
    ...extra,
  };
}

// sign signs payload with alg. A Web Crypto key is bound to one algorithm
// (and RSA keys to one hash), so a private key is re-imported for alg: one
// RSA key signs every RS* and PS* token.
async function sign(alg, key, header, payload, options) {
  if (!(key instanceof Uint8Array)) {
    key = await jose.importPKCS8(await jose.exportPKCS8(key), alg);
  }
  return new jose.SignJWT(payload).setProtectedHeader({ alg, ...header }).sign(key, options);
}

async function main() {
  const rsa = await keyPair('RS256', 'rsa', { modulusLength: 2048 });
  const rsa4096 = await keyPair('RS512', 'rsa4096', { modulusLength: 4096 }, 'RS512');
  const p256 = await keyPair('ES256', 'es256');
  const p384 = await keyPair('ES384', 'es384');
  const p521 = await keyPair('ES512', 'es512');
  const ed = await keyPair('EdDSA', 'ed', { crv: 'Ed25519' });
  const ed9864 = await keyPair('Ed25519', 'ed-9864', {}, 'Ed25519');
  const edDSA = await keyPair('EdDSA', 'ed-eddsa', { crv: 'Ed25519' }, 'EdDSA');
  const secret = crypto.randomBytes(64);
  // Encryption keys, as identity providers publish them next to signing
  // keys: a verifier must skip them. The P-256 one also makes the ES256
  // token without a kid ambiguous unless it is skipped.
  await keyPair('RSA-OAEP-256', 'enc-rsa', { modulusLength: 2048 }, 'RSA-OAEP-256');
  await keyPair('ECDH-ES', 'enc-p256', { crv: 'P-256' }, 'ECDH-ES');
  await keyPair('ECDH-ES', 'enc-x25519', { crv: 'X25519' }, 'ECDH-ES');
  for (const jwk of jwks.filter((k) => k.kid.startsWith('enc-'))) {
    jwk.use = 'enc';
  }

  const valid = [];
  let i = 0;
  const add = async (alg, key, header, note = '', extra = {}) => {
    const c = claims(i++, alg, extra);
    valid.push({ alg, sub: c.sub, token: await sign(alg, key, header, c), note });
  };
  for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']) {
    await add(alg, rsa, { kid: 'rsa', typ: 'JWT' });
  }
  await add('RS512', rsa4096, { kid: 'rsa4096' }, 'RSA 4096 key whose JWK alg is RS512');
  // Several ECDSA tokens per curve: jose converts the signature to R || S.
  for (const [alg, key, kid] of [['ES256', p256, 'es256'], ['ES384', p384, 'es384'], ['ES512', p521, 'es512']]) {
    for (let n = 0; n < 4; n++) {
      await add(alg, key, { kid, typ: 'JWT' });
    }
  }
  await add('ES256', p256, {}, 'no kid: the only P-256 signing key');
  await add('EdDSA', ed, { kid: 'ed' });
  await add('Ed25519', ed, { kid: 'ed' }, 'RFC 9864 alg, JWK without alg');
  await add('Ed25519', ed9864, { kid: 'ed-9864' }, 'RFC 9864 alg, JWK alg Ed25519');
  await add('EdDSA', ed9864, { kid: 'ed-9864' }, 'alg EdDSA, JWK alg Ed25519');
  await add('Ed25519', edDSA, { kid: 'ed-eddsa' }, 'RFC 9864 alg, JWK alg EdDSA');
  await add('ES256', p256, { kid: 'es256', typ: 'at+jwt' }, 'typ at+jwt (RFC 9068)', { client_id: 'c1', jti: 'j1', scope: 'a b' });
  for (const alg of ['HS256', 'HS384', 'HS512']) {
    await add(alg, secret, { typ: 'JWT' });
  }

  const invalid = [];
  const bad = (alg, token, why) => invalid.push({ alg, token, why });
  bad('none', new jose.UnsecuredJWT(claims(100, 'none')).encode(), 'alg none (jose UnsecuredJWT)');
  bad('dir', await new jose.EncryptJWT(claims(101, 'dir')).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(crypto.randomBytes(32)),
    'a JWE (jose EncryptJWT), not a JWS');
  bad('ES256', await sign('ES256', p256, { kid: 'es256' }, claims(102, 'ES256', { exp: 978307200 })), 'expired in 2001');
  bad('ES256', await sign('ES256', p256, { kid: 'es256' }, claims(103, 'ES256', { iss: 'https://other.test' })), 'another issuer');
  bad('ES256', await sign('ES256', p256, { kid: 'es256' }, claims(104, 'ES256', { aud: 'other' })), 'another audience');
  const attacker = await jose.generateKeyPair('RS256', { extractable: true });
  bad('RS256', await sign('RS256', attacker.privateKey, { kid: 'rsa' }, claims(105, 'RS256')), 'signed by a key outside the set, under its kid');
  const attackerEC = await jose.generateKeyPair('ES256', { extractable: true });
  bad('ES256', await sign('ES256', attackerEC.privateKey, { jwk: await jose.exportJWK(attackerEC.publicKey) }, claims(106, 'ES256')),
    'signed by the key embedded in its header (CVE-2018-0114)');
  bad('RS256', await sign('RS256', rsa, { kid: 'es256' }, claims(107, 'RS256')), 'the kid of an EC key on an RS256 token');
  const attackerEd = await jose.generateKeyPair('Ed25519', { extractable: true });
  bad('Ed25519', await sign('Ed25519', attackerEd.privateKey, { kid: 'ed' }, claims(108, 'Ed25519')), 'Ed25519 signed by a key outside the set');
  bad('HS256', await sign('HS256', crypto.randomBytes(64), {}, claims(109, 'HS256')), 'HS256 with another secret');
  // jose signs a crit header only when told the extension is understood.
  bad('RS256', await sign('RS256', rsa, { kid: 'rsa', crit: ['exp'], exp: 1 }, claims(110, 'RS256'), { crit: { exp: true } }),
    'a crit header extension (exp) the verifier does not implement');
  bad('ES256', await sign('ES256', p256, { kid: 'es256', cty: 'JWT' }, claims(111, 'ES256')), 'cty JWT: a nested token');
  for (const v of invalid) {
    if (!v.token) {
      throw new Error(`jose made no token for: ${v.why}`);
    }
  }

  const out = {
    generator: `scripts/gen-jwt-jose-tokens.cjs with jose ${require('jose/package.json').version} on Node.js ${process.versions.node} (OpenSSL ${process.versions.openssl})`,
    issuer: ISSUER,
    hmac_issuer: HMAC_ISSUER,
    audience: AUDIENCE,
    jwks: { keys: jwks },
    hmac_secret: secret.toString('base64'),
    valid,
    invalid,
  };
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
