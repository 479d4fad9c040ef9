# frozen_string_literal: true

require_relative "test_helper"

class TestDelegate < Minitest::Test
  def test_headers_name_the_internal_location_with_a_form_encoded_query
    h = Xsendfiled.delegate("dir with space/ä ö.txt", filename: "Alice's ä+b.txt", disposition: "attachment")
    assert_equal "application/octet-stream", h["content-type"]
    assert_equal "/_xsendfiled/dir%20with%20space/%C3%A4%20%C3%B6.txt" \
                 "?filename=Alice%27s+%C3%A4%2Bb.txt&disposition=attachment", h["x-accel-redirect"]
  end

  def test_every_byte_of_the_path_is_encoded_but_unreserved_and_slash
    {
      "100%.txt" => "100%25.txt", "q?x.txt" => "q%3Fx.txt", "h#x.txt" => "h%23x.txt", "%41.txt" => "%2541.txt",
      "semi;colon=1&x+y.txt" => "semi%3Bcolon%3D1%26x%2By.txt", "是.txt" => "%E6%98%AF.txt", "trail " => "trail%20",
      "/sub/in.txt" => "sub/in.txt", "lf\nx" => "lf%0Ax", "~a-b_c.d" => "~a-b_c.d"
    }.each do |path, want|
      assert_equal "/_xsendfiled/#{want}", Xsendfiled::Delegate.uri(path), path.inspect
    end
  end

  def test_other_trusted_keys_and_prefix
    uri = Xsendfiled::Delegate.uri("a", internal_prefix: "/_x/", cache_control: "private, max-age=60", expires: 60,
                                        limit_rate: 1024, buffering: false, accel_expires: 0, disposition: :inline)
    assert_equal "/_x/a?disposition=inline&cache_control=private%2C+max-age%3D60&expires=60&limit_rate=1024" \
                 "&accel_expires=0&buffering=no", uri
  end

  def test_refused_arguments
    assert_raises(Xsendfiled::Error) { Xsendfiled.delegate("") }
    assert_raises(Xsendfiled::Error) { Xsendfiled.delegate("a", disposition: "download") }
    assert_raises(Xsendfiled::Error) { Xsendfiled.delegate("a", filename: "../x") }
    assert_raises(Xsendfiled::Error) { Xsendfiled.delegate("a", filename: "x\r\nSet-Cookie: a=b") }
    assert_raises(Xsendfiled::Error) { Xsendfiled.delegate("a", internal_prefix: "_x") }
    assert_raises(Xsendfiled::Error) { Xsendfiled.delegate("a", cache_control: "a\r\nb") }
    assert_raises(Xsendfiled::Error) { Xsendfiled.delegate("a", limit_rate: -1) }
    assert_raises(Xsendfiled::Error) { Xsendfiled.delegate("a", buffering: "maybe") }
  end

  def test_content_disposition_is_read_exactly_or_not_at_all
    cd = Xsendfiled::ContentDisposition
    assert_equal ["attachment", "Q3 résumé.pdf"],
                 cd.parse(%(attachment; filename="Q3 r_sum_.pdf"; filename*=UTF-8''Q3%20r%C3%A9sum%C3%A9.pdf))
    assert_equal ["inline", "a \"b\".txt"], cd.parse(%(inline; filename="a \\"b\\".txt"))
    assert_equal ["attachment", "ä.txt"], cd.parse(%(Attachment; filename="ä.txt"))
    assert_equal ["attachment", "plain.txt"], cd.parse("attachment; filename=plain.txt")
    assert_equal ["attachment", 'a"b 100%.txt'], cd.parse('attachment; filename="a%22b 100%.txt"'), "Sinatra's %22"
    assert_equal ["attachment", nil], cd.parse("attachment")
    assert_nil cd.parse("form-data; name=x")
    assert_nil cd.parse(%(attachment; filename="a"; filename="b"))
    assert_nil cd.parse(%(attachment; filename="unterminated))
    assert_nil cd.parse("attachment; filename*=ISO-8859-1''%E4.txt")
    assert_nil cd.parse("attachment; filename*=UTF-8''%FF.txt")
    assert_nil cd.parse(%(attachment; filename="../etc/passwd"))
  end
end
