// mediasoup 3.15 is written against libsrtp 3 (size_t lengths, srtp_stream_remove); Debian 12 has
// libsrtp 2.5, whose functions take int* lengths and name stream removal srtp_remove_stream.
// These C++ overloads adapt the calls; nothing else in the worker changes.
#ifndef MIMAMORI_SRTP3_COMPAT_H
#define MIMAMORI_SRTP3_COMPAT_H
#ifdef __cplusplus
#include <climits>
#include <cstddef>
#include <cstdint>
#include <srtp2/srtp.h>

namespace mimamori_srtp3_compat
{
	template<typename F>
	inline srtp_err_status_t WithIntLength(size_t* len, F call)
	{
		if (*len > static_cast<size_t>(INT_MAX))
			return srtp_err_status_bad_param;
		int intLen = static_cast<int>(*len);
		const srtp_err_status_t err = call(&intLen);
		*len = static_cast<size_t>(intLen);
		return err;
	}
} // namespace mimamori_srtp3_compat

inline srtp_err_status_t srtp_protect(srtp_t ctx, uint8_t* rtp, size_t* len)
{
	return mimamori_srtp3_compat::WithIntLength(len, [&](int* l) { return srtp_protect(ctx, static_cast<void*>(rtp), l); });
}
inline srtp_err_status_t srtp_unprotect(srtp_t ctx, uint8_t* srtp, size_t* len)
{
	return mimamori_srtp3_compat::WithIntLength(len, [&](int* l) { return srtp_unprotect(ctx, static_cast<void*>(srtp), l); });
}
inline srtp_err_status_t srtp_protect_rtcp(srtp_t ctx, uint8_t* rtcp, size_t* len)
{
	return mimamori_srtp3_compat::WithIntLength(len, [&](int* l) { return srtp_protect_rtcp(ctx, static_cast<void*>(rtcp), l); });
}
inline srtp_err_status_t srtp_unprotect_rtcp(srtp_t ctx, uint8_t* srtcp, size_t* len)
{
	return mimamori_srtp3_compat::WithIntLength(len, [&](int* l) { return srtp_unprotect_rtcp(ctx, static_cast<void*>(srtcp), l); });
}
inline srtp_err_status_t srtp_stream_remove(srtp_t session, uint32_t ssrc)
{
	return srtp_remove_stream(session, ssrc);
}
#endif
#endif
