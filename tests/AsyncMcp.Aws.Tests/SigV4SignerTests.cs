using System.Text;
using AsyncMcp.Aws.Sns;

namespace AsyncMcp.Aws.Tests;

public sealed class SigV4SignerTests
{
    private static readonly DateTimeOffset s_time = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);

    [Fact]
    public void Matches_the_example_in_the_AWS_signature_version_4_documentation()
    {
        // GET https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08 from the AWS General Reference.
        var headers = new Dictionary<string, string>
        {
            ["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8",
            ["Host"] = "iam.amazonaws.com",
            ["X-Amz-Date"] = "20150830T123600Z",
        };

        var authorization = SigV4Signer.Authorization(
            "GET", new Uri("https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"), headers, [], "us-east-1", "iam",
            "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", s_time);

        Assert.Equal(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            authorization);
    }

    [Fact]
    public void Matches_the_AWS_SDK_for_JavaScript_when_the_payload_hash_header_is_signed_too()
    {
        // The same request signed by @smithy/signature-v4 (AWS SDK for JavaScript v3), which adds x-amz-content-sha256.
        var headers = new Dictionary<string, string>
        {
            ["content-type"] = "application/x-www-form-urlencoded; charset=utf-8",
            ["host"] = "iam.amazonaws.com",
            ["x-amz-content-sha256"] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ["x-amz-date"] = "20150830T123600Z",
        };

        var authorization = SigV4Signer.Authorization(
            "GET", new Uri("https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"), headers, [], "us-east-1", "iam",
            "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", s_time);

        Assert.EndsWith("Signature=dd479fa8a80364edf2119ec24bebde66712ee9c9cb2b0d92eb3ab9ccdc0c3947", authorization, StringComparison.Ordinal);
    }

    [Fact]
    public void A_changed_body_changes_the_signature()
    {
        var headers = new Dictionary<string, string> { ["host"] = "sns.us-east-1.amazonaws.com", ["x-amz-date"] = "20150830T123600Z" };
        var uri = new Uri("https://sns.us-east-1.amazonaws.com/");

        var a = SigV4Signer.Authorization("POST", uri, headers, Encoding.UTF8.GetBytes("Action=Publish&Message=a"), "us-east-1", "sns", "AK", "SK", s_time);
        var b = SigV4Signer.Authorization("POST", uri, headers, Encoding.UTF8.GetBytes("Action=Publish&Message=b"), "us-east-1", "sns", "AK", "SK", s_time);

        Assert.NotEqual(a, b);
    }
}
