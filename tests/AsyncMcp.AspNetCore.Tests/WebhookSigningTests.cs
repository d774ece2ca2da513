using System.Text;
using AsyncMcp.AspNetCore.Webhooks.Signing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace AsyncMcp.AspNetCore.Tests;

/// <summary>Signing and verification rules, with a controlled clock.</summary>
public sealed class WebhookSigningTests
{
    // The example from the Standard Webhooks specification.
    private const string SpecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string SpecId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const long SpecTimestamp = 1614265330;
    private const string SpecBody = "{\"test\": 2432232314}";
    private const string SpecSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    [Fact]
    public void Signs_the_specification_example_as_the_specification_does()
    {
        var signer = new WebhookSigner(WebhookSecret.Parse(SpecSecret, "secret"));
        Assert.Equal(SpecSignature, signer.Sign(SpecId, DateTimeOffset.FromUnixTimeSeconds(SpecTimestamp), Encoding.UTF8.GetBytes(SpecBody)));
    }

    [Fact]
    public void Accepts_a_valid_signature_once_and_takes_the_same_id_again_for_a_replay()
    {
        var verifier = Verifier(out _);
        var headers = Headers(SpecSignature);

        Assert.Equal(VerificationOutcome.Valid, verifier.Verify(headers, Encoding.UTF8.GetBytes(SpecBody)).Outcome);
        Assert.Equal(VerificationOutcome.Replayed, verifier.Verify(headers, Encoding.UTF8.GetBytes(SpecBody)).Outcome);

        verifier.Forget(SpecId);
        Assert.Equal(VerificationOutcome.Valid, verifier.Verify(headers, Encoding.UTF8.GetBytes(SpecBody)).Outcome);
    }

    [Fact]
    public void Refuses_tampering_stale_timestamps_and_missing_parts()
    {
        var verifier = Verifier(out var clock);
        Assert.Equal(VerificationOutcome.Refused, verifier.Verify(Headers(SpecSignature), Encoding.UTF8.GetBytes(SpecBody + " ")).Outcome);
        Assert.Equal(VerificationOutcome.Refused, verifier.Verify(Headers("v1,AAAA"), Encoding.UTF8.GetBytes(SpecBody)).Outcome);
        Assert.Equal(VerificationOutcome.Refused, verifier.Verify(Headers(SpecSignature.Replace("v1,", "v2,", StringComparison.Ordinal)), Encoding.UTF8.GetBytes(SpecBody)).Outcome);
        Assert.Equal(VerificationOutcome.Refused, verifier.Verify(new HeaderDictionary(), Encoding.UTF8.GetBytes(SpecBody)).Outcome);
        var partial = Headers(SpecSignature);
        partial.Remove(StandardWebhookHeaders.Id);
        Assert.Equal(VerificationOutcome.Refused, verifier.Verify(partial, Encoding.UTF8.GetBytes(SpecBody)).Outcome);

        clock.Advance(TimeSpan.FromMinutes(6));
        var stale = verifier.Verify(Headers(SpecSignature), Encoding.UTF8.GetBytes(SpecBody));
        Assert.Equal(VerificationOutcome.Refused, stale.Outcome);
        Assert.Contains("outside the tolerance", stale.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_message_stamped_ahead_of_now_is_remembered_as_long_as_its_timestamp_is_acceptable()
    {
        // Stamped 290 s ahead (a sender's clock running fast), inside the 5 min tolerance.
        var signer = new WebhookSigner(WebhookSecret.Parse(SpecSecret, "secret"));
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(SpecTimestamp));
        var verifier = new WebhookVerifier(signer, allowUnsigned: false, TimeSpan.FromMinutes(5), clock);
        var stamped = DateTimeOffset.FromUnixTimeSeconds(SpecTimestamp + 290);
        var body = Encoding.UTF8.GetBytes(SpecBody);
        var headers = new HeaderDictionary
        {
            [StandardWebhookHeaders.Id] = SpecId,
            [StandardWebhookHeaders.Timestamp] = stamped.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            [StandardWebhookHeaders.Signature] = signer.Sign(SpecId, stamped, body),
        };
        Assert.Equal(VerificationOutcome.Valid, verifier.Verify(headers, body).Outcome);

        // 301 s later the timestamp is still acceptable (it is 11 s old): the same message is a replay, not new.
        clock.Advance(TimeSpan.FromSeconds(301));
        Assert.Equal(VerificationOutcome.Replayed, verifier.Verify(headers, body).Outcome);

        // Once the timestamp is out of the tolerance, the timestamp check refuses it.
        clock.Advance(TimeSpan.FromSeconds(290));
        Assert.Equal(VerificationOutcome.Refused, verifier.Verify(headers, body).Outcome);
    }

    [Fact]
    public void Accepts_any_of_several_signatures_and_a_previous_secret_during_rotation()
    {
        var oldSecret = WebhookSecret.Parse(SpecSecret, "old");
        var newSecret = WebhookSecret.Parse(WebhookSecret.Generate(), "new");
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(SpecTimestamp));
        var rotating = new WebhookVerifier(new WebhookSigner(newSecret, [oldSecret]), allowUnsigned: false, TimeSpan.FromMinutes(5), clock);

        Assert.Equal(VerificationOutcome.Valid, rotating.Verify(Headers("v1,bm90IGEgc2lnbmF0dXJlIGF0IGFsbCBhdCBhbGwgISE= " + SpecSignature), Encoding.UTF8.GetBytes(SpecBody)).Outcome);
    }

    [Fact]
    public void Unsigned_messages_pass_only_when_allowed()
    {
        var strict = new WebhookVerifier(new WebhookSigner(WebhookSecret.Parse(SpecSecret, "s")), allowUnsigned: false, TimeSpan.FromMinutes(5));
        var lenient = new WebhookVerifier(new WebhookSigner(WebhookSecret.Parse(SpecSecret, "s")), allowUnsigned: true, TimeSpan.FromMinutes(5));
        Assert.Equal(VerificationOutcome.Refused, strict.Verify(new HeaderDictionary(), []).Outcome);
        Assert.Equal(VerificationOutcome.UnsignedAllowed, lenient.Verify(new HeaderDictionary(), []).Outcome);

        // A signature that is present must still be right, even when unsigned messages are allowed.
        Assert.Equal(VerificationOutcome.Refused, lenient.Verify(Headers("v1,AAAA"), Encoding.UTF8.GetBytes(SpecBody)).Outcome);
    }

    [Fact]
    public async Task Remembers_each_id_accepted_at_the_same_moment_once_and_forgets_them_when_their_timestamps_expire()
    {
        var signer = new WebhookSigner(WebhookSecret.Parse(SpecSecret, "secret"));
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(SpecTimestamp));
        var verifier = new WebhookVerifier(signer, allowUnsigned: false, TimeSpan.FromMinutes(5), clock);
        var body = Encoding.UTF8.GetBytes(SpecBody);
        HeaderDictionary Signed(string id) => new()
        {
            [StandardWebhookHeaders.Id] = id,
            [StandardWebhookHeaders.Timestamp] = SpecTimestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [StandardWebhookHeaders.Signature] = signer.Sign(id, clock.GetUtcNow(), body),
        };

        // 64 senders at once, each id twice: every id is taken once and refused once as a replay, and counted once.
        var ids = Enumerable.Range(0, 400).Select(i => $"msg_{i}").ToArray();
        var outcomes = await Task.WhenAll(ids.Concat(ids).Chunk(ids.Length * 2 / 64).Select(chunk => Task.Run(() => chunk.Select(id => verifier.Verify(Signed(id), body).Outcome).ToList())));
        Assert.Equal(ids.Length, outcomes.SelectMany(o => o).Count(o => o == VerificationOutcome.Valid));
        Assert.Equal(ids.Length, outcomes.SelectMany(o => o).Count(o => o == VerificationOutcome.Replayed));
        Assert.Equal(ids.Length, verifier.Remembered);

        verifier.Forget("msg_0");
        verifier.Forget("msg_0");
        Assert.Equal(ids.Length - 1, verifier.Remembered);

        // Past the tolerance, the next accepted message sweeps the expired ids: only its own remains.
        clock.Advance(TimeSpan.FromMinutes(6));
        var fresh = new HeaderDictionary
        {
            [StandardWebhookHeaders.Id] = "msg_fresh",
            [StandardWebhookHeaders.Timestamp] = clock.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            [StandardWebhookHeaders.Signature] = signer.Sign("msg_fresh", clock.GetUtcNow(), body),
        };
        Assert.Equal(VerificationOutcome.Valid, verifier.Verify(fresh, body).Outcome);
        Assert.Equal(1, verifier.Remembered);
    }

    private static WebhookVerifier Verifier(out FakeTimeProvider clock)
    {
        clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(SpecTimestamp));
        return new WebhookVerifier(new WebhookSigner(WebhookSecret.Parse(SpecSecret, "secret")), allowUnsigned: false, TimeSpan.FromMinutes(5), clock);
    }

    private static HeaderDictionary Headers(string signature) => new()
    {
        [StandardWebhookHeaders.Id] = SpecId,
        [StandardWebhookHeaders.Timestamp] = SpecTimestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
        [StandardWebhookHeaders.Signature] = signature,
    };
}
