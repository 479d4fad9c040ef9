# frozen_string_literal: true

require_relative "test_helper"

class TestSign < Minitest::Test
  KEY = (0..31).to_a.pack("C*")

  OPTIONS = { not_before: "nbf", prefix: "prefix", network: "network", filename: "filename",
              disposition: "disposition", link_id: "id", uses: "uses", grant_window: "gw" }.freeze

  def test_every_refusal_of_the_vectors_is_refused
    Vectors.doc.fetch("refuse").each do |c|
      opts = { key: KEY, kid: c["kid"], expires_at: c["exp"] }
      OPTIONS.each { |opt, field| opts[opt] = c[field] unless c[field].nil? }
      assert_raises(Xsendfiled::Error, c["name"]) { Xsendfiled.sign(c["path"], **opts) }
    end
  end

  def sign(path, **opts)
    Xsendfiled.sign(path, key: KEY, kid: "k1", expires_at: 1_767_225_600, **opts)
  end

  def test_every_vector_signs_byte_identical
    cases = Vectors.doc.fetch("sign")
    assert_operator cases.length, :>=, 10
    cases.each do |c|
      opts = { key: Vectors.secret(c["kid"]), kid: c["kid"], expires_at: c["exp"] }
      OPTIONS.each { |opt, field| opts[opt] = c[field] unless c[field].nil? }
      assert_equal c["url"], Xsendfiled.sign(c["path"], **opts), c["name"]
      fname = c["filename"] && Xsendfiled::SDL1.b64(c["filename"].b)
      canonical = Xsendfiled::SDL1.canonical(kid: c["kid"], exp: c["exp"], nbf: c["nbf"], network: c["network"],
                                             fname: fname, disp: c["disposition"], prefix: c["prefix"], path: c["path"],
                                             id: c["id"], uses: c["uses"], gw: c["gw"])
      assert_equal c["canonical"].b, canonical, c["name"]
    end
  end

  def test_the_network_is_masked_and_written_as_the_daemon_does
    {
      "203.0.113.77/24" => "203.0.113.0/24",
      "198.51.100.7" => "198.51.100.7/32",
      "::ffff:203.0.113.9/24" => "203.0.113.0/24",
      "2001:DB8:85A3:0:0:8A2E:370:7334/64" => "2001:db8:85a3::/64",
      "2001:db8:0:0:1:0:0:1/128" => "2001:db8::1:0:0:1/128",
      "2001:0:0:1:0:0:0:1/128" => "2001:0:0:1::1/128",
      "1:0:2:0:3:0:4:0/128" => "1:0:2:0:3:0:4:0/128",
      "::1" => "::1/128",
      "fe80::1/10" => "fe80::/10",
      "::/1" => "::/1",
      "1:2:3:4:5:6:1.2.3.4/128" => "1:2:3:4:5:6:102:304/128"
    }.each do |given, want|
      assert_equal want, Xsendfiled::Network.parse(given)[0], given
      assert_equal sign("/dl/a", network: want), sign("/dl/a", network: given), given
    end
    ["1.2.3", "01.2.3.4", "1.2.3.4/0", "1.2.3.4/33", "1.2.3.4/+24", "::1/129", "1::2::3", "1:2:3:4:5:6:7::8",
     "1:2:3:4:5:6:7", "host.example", "::ffff:1.2.3.4/64", "1.2.3.4/024x"].each do |bad|
      assert_raises(Xsendfiled::Error, bad) { sign("/dl/a", network: bad) }
    end
  end

  def test_times_as_time_or_seconds_and_expires_in
    assert_equal sign("/dl/a"), Xsendfiled.sign("/dl/a", key: KEY, kid: "k1", expires_at: Time.at(1_767_225_600))
    assert_equal sign("/dl/a"), Xsendfiled.sign("/dl/a", key: KEY, kid: "k1", expires_in: 600, now: Time.at(1_767_225_000))
    assert_includes Xsendfiled.sign("/dl/a", key: KEY, kid: "k1"), "exp=#{Time.now.to_i + 3600}"
    assert_includes sign("/dl/a", not_before: Time.at(1_767_222_000)), "&nbf=1767222000&"
    assert_raises(Xsendfiled::Error) { sign("/dl/a", not_before: 1_767_225_600) }
    assert_raises(Xsendfiled::Error) { Xsendfiled.sign("/dl/a", key: KEY, kid: "k1", expires_at: 1, expires_in: 1) }
    assert_raises(Xsendfiled::Error) { Xsendfiled.sign("/dl/a", key: KEY, kid: "k1", expires_at: 0) }
    assert_raises(Xsendfiled::Error) { Xsendfiled.sign("/dl/a", key: KEY, kid: "k1", expires_at: "1767225600") }
  end

  def test_what_the_daemon_would_refuse_is_not_signed
    ["dl/a", "/dl//a", "/dl/./a", "/dl/../a", "/dl/a/", "/dl/a\nb", "/dl/a\\b", "/dl/\x7f", "/dl/\xff".b].each do |p|
      assert_raises(Xsendfiled::Error, p.inspect) { sign(p) }
    end
    assert_raises(Xsendfiled::Error) { sign("/dl/a", prefix: "/dl") }
    assert_raises(Xsendfiled::Error) { sign("/dl/a", prefix: "/other/") }
    assert_raises(Xsendfiled::Error) { sign("/dlx/a", prefix: "/dl/x") }
    ["", "a/b", "a\\b", "a\u0085b", "x" * 256].each do |name|
      assert_raises(Xsendfiled::Error, name.inspect) { sign("/dl/a", filename: name) }
    end
    assert_raises(Xsendfiled::Error) { sign("/dl/a", disposition: "auto") }
    assert_raises(Xsendfiled::Error) { Xsendfiled.sign("/dl/a", key: KEY, kid: "bad kid", expires_at: 2) }
    assert_raises(Xsendfiled::Error) { Xsendfiled.sign("/dl/a", key: "short", kid: "k1", expires_at: 2) }
  end

  def test_secrets_in_key_file_spelling
    assert_equal KEY, Xsendfiled.secret("hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
    assert_equal KEY, Xsendfiled.secret("b64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")
    assert_raises(ArgumentError) { Xsendfiled.secret("text:short") }
  end
end
