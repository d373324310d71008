package htpasswd

// crypt64Alphabet is the "hash64" alphabet of the Unix crypt family (md5-crypt,
// apr1, sha-crypt). bcrypt uses the same 64 characters in another order.
const crypt64Alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// crypt64Index maps a byte to its value in crypt64Alphabet, or -1.
var crypt64Index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := range len(crypt64Alphabet) {
		t[crypt64Alphabet[i]] = int8(i)
	}
	return t
}()

// isCrypt64 reports whether every byte of s is in the crypt alphabet
// [./0-9A-Za-z]; the bcrypt alphabet is the same set.
func isCrypt64(s string) bool {
	for i := range len(s) {
		if crypt64Index[s[i]] < 0 {
			return false
		}
	}
	return true
}

// appendCrypt64 appends the encoding of sum to dst. order lists the digest's
// byte indexes as the specification emits them: each full group of three is
// one 24-bit value (first index most significant) written as four characters,
// least significant six bits first; a trailing pair or single is written the
// same way as three or two characters. This is the b64_from_24bit step of
// Drepper's SHA-crypt specification and the to64 step of md5-crypt.
func appendCrypt64(dst, sum []byte, order []uint8) []byte {
	i := 0
	for ; i+3 <= len(order); i += 3 {
		w := uint32(sum[order[i]])<<16 | uint32(sum[order[i+1]])<<8 | uint32(sum[order[i+2]])
		dst = appendCrypt64Word(dst, w, 4)
	}
	switch len(order) - i {
	case 2:
		dst = appendCrypt64Word(dst, uint32(sum[order[i]])<<8|uint32(sum[order[i+1]]), 3)
	case 1:
		dst = appendCrypt64Word(dst, uint32(sum[order[i]]), 2)
	}
	return dst
}

func appendCrypt64Word(dst []byte, w uint32, n int) []byte {
	for range n {
		dst = append(dst, crypt64Alphabet[w&0x3f])
		w >>= 6
	}
	return dst
}

// crypt64Len is the length of the encoding of an order of n bytes.
func crypt64Len(n int) int {
	return (8*n + 5) / 6
}

// crypt64Canonical reports whether enc is an encoding of n bytes with zero in
// the unused high bits of its last character, as every encoder writes it. A
// non-canonical string could never equal a computed one.
func crypt64Canonical(enc string, n int) bool {
	if len(enc) != crypt64Len(n) || n == 0 {
		return false
	}
	spare := 6*len(enc) - 8*n
	return int(crypt64Index[enc[len(enc)-1]]) < 1<<(6-spare)
}
