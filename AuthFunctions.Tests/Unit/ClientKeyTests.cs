using System.Net;
using AuthFunctions.Http;

namespace AuthFunctions.Tests.Unit;

/// <summary>
/// The client part of the per-client rate limit's key (<see cref="ClientRateLimitMiddleware.ClientKey"/>): one IPv4
/// address however it is written, one budget per IPv6 /64. Pure logic, tested here because neither case can be made
/// through the host from this machine: the only IPv6 loopback address is ::1, and the host hands the worker the peer
/// address it saw, not one a test can choose (Http/RateLimitTests proves that part with real source addresses).
/// Addresses are from the documentation ranges (RFC 5737, RFC 3849) and RFC 4291's own examples.
/// </summary>
public sealed class ClientKeyTests
{
    private static string Key(string address) => ClientRateLimitMiddleware.ClientKey(IPAddress.Parse(address));

    [Theory]
    // RFC 4291 2.5.5.2: an IPv4-mapped IPv6 address is the IPv4 node itself (how a dual-stack socket reports IPv4 peers).
    [InlineData("203.0.113.7", "::ffff:203.0.113.7")]
    [InlineData("203.0.113.7", "::FFFF:CB00:7107")]
    [InlineData("198.51.100.9", "0:0:0:0:0:ffff:198.51.100.9")]
    public void AnIPv4AddressWrittenAsIPv6IsTheSameClient(string ipv4, string mapped)
    {
        Assert.Equal(ipv4, Key(ipv4));
        Assert.Equal(Key(ipv4), Key(mapped));
    }

    [Fact]
    public void EachIPv4AddressIsItsOwnClient()
    {
        Assert.NotEqual(Key("203.0.113.7"), Key("203.0.113.8"));
        Assert.NotEqual(Key("::ffff:203.0.113.7"), Key("::ffff:203.0.113.8"));
        Assert.NotEqual(Key("127.0.0.2"), Key("127.0.0.3"));
    }

    [Theory]
    // RFC 4291 2.2: the same unicast address in its full, leading-zero-dropped and compressed forms.
    [InlineData("2001:0DB8:0000:0000:0008:0800:200C:417A")]
    [InlineData("2001:DB8:0:0:8:800:200C:417A")]
    [InlineData("2001:db8::8:800:200c:417a")]
    // Other addresses of the same /64 (2001:db8::/64): interface identifiers a subscriber can pick at will (RFC 6177).
    [InlineData("2001:db8::")]
    [InlineData("2001:db8::1")]
    [InlineData("2001:db8::ffff:ffff:ffff:ffff")]
    [InlineData("2001:db8::8000:0:0:0")] // bit 64, the first bit after the prefix
    public void EveryAddressOfOneIPv6SlashSixtyFourIsOneClient(string address) =>
        Assert.Equal("2001:db8::/64", Key(address));

    [Theory]
    // Neighbouring /64s: bit 63, the last bit of the prefix, differs, or any bit above it.
    [InlineData("2001:db8:0:1::1")]
    [InlineData("2001:db8:0:8000::1")]
    [InlineData("2001:db8:0:ffff::")]
    [InlineData("2001:db8:1::8:800:200c:417a")]
    [InlineData("2001:db9::8:800:200c:417a")]
    public void AnotherSlashSixtyFourIsAnotherClient(string address) =>
        Assert.NotEqual(Key("2001:db8::8:800:200c:417a"), Key(address));

    [Fact]
    public void AnIPv6KeyNamesItsPrefix()
    {
        Assert.Equal("2001:db8:1:2::/64", Key("2001:db8:1:2:aaaa::7"));
        Assert.Equal("2001:db8:1:2::/64", Key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        Assert.Equal("2001:db8:0:8000::/64", Key("2001:db8:0:8000:1:2:3:4"));
    }

    [Fact]
    public void IPv4AndIPv6KeysNeverMeet()
    {
        // ::cb00:7107 is the IPv4-compatible form RFC 4291 2.5.5.1 deprecates: an IPv6 address, not 203.0.113.7.
        Assert.NotEqual(Key("203.0.113.7"), Key("::cb00:7107"));
        Assert.NotEqual(Key("127.0.0.1"), Key("::1"));
    }

    [Fact]
    public void NoAddressIsOneUnknownClient() =>
        Assert.Equal("unknown", ClientRateLimitMiddleware.ClientKey(null));
}
