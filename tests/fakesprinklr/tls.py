"""A throwaway CA and a localhost server certificate, made with the openssl CLI.

Files in the directory: ca.pem (give it to clients), ca.key, server.pem,
server.key.  Existing files are reused; an exclusive lock on the directory
lets several fakes share it safely.
"""

import fcntl
import os
import ssl
import subprocess

CA_SUBJECT = "/CN=fakesprinklr test CA"
SERVER_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _openssl(*args):
    subprocess.run(("openssl",) + args, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def _ec_key(path):
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)
    os.chmod(path, 0o600)


def _make(directory):
    ca_key, ca_pem = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
    key, pem = os.path.join(directory, "server.key"), os.path.join(directory, "server.pem")
    csr, ext = os.path.join(directory, "server.csr"), os.path.join(directory, "server.ext")
    _ec_key(ca_key)
    _openssl("req", "-x509", "-new", "-key", ca_key, "-sha256", "-days", "3650",
             "-subj", CA_SUBJECT, "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", ca_pem + ".tmp")
    _ec_key(key)
    _openssl("req", "-new", "-key", key, "-subj", "/CN=localhost", "-out", csr)
    with open(ext, "w") as f:
        f.write(SERVER_EXTENSIONS)
    _openssl("x509", "-req", "-in", csr, "-CA", ca_pem + ".tmp", "-CAkey", ca_key,
             "-CAcreateserial", "-days", "825", "-sha256", "-extfile", ext, "-out", pem)
    for leftover in (csr, ext, os.path.join(directory, "ca.srl")):
        if os.path.exists(leftover):
            os.unlink(leftover)
    os.replace(ca_pem + ".tmp", ca_pem)


def ensure(directory):
    """(ca.pem, server.pem, server.key) in directory, creating them if needed."""
    os.makedirs(directory, exist_ok=True)
    names = [os.path.join(directory, n) for n in ("ca.pem", "server.pem", "server.key")]
    with open(os.path.join(directory, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all(os.path.exists(n) for n in names):
            _make(directory)
    return tuple(names)


def server_context(cert, key):
    """A server-side SSLContext for the certificate.

    It speaks HTTP/1.1 only and says so through ALPN, so a client that also
    offers h2 settles on HTTP/1.1.  TLS 1.3 session tickets (two per full
    handshake, OpenSSL's default) let a client's later connections resume.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])
    return context
