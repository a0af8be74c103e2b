// Names of the Key Vault secrets, shared by the modules, scripts/azd-ensure-signing-key and
// scripts/rotate-signing-key (which use the same literal names).

@export()
@description('The ES256 signing keys (PKCS#8 PEM, P-256), newest first: Auth__SigningKeys__0, __1.')
var signingKeySecretNames = ['auth-signing-key-0', 'auth-signing-key-1']

@export()
@description('The keys TOTP secrets are sealed under (base64 of 32 random bytes), newest first: Mfa__EncryptionKeys__0, __1.')
var mfaEncryptionKeySecretNames = ['mfa-encryption-key-0', 'mfa-encryption-key-1']

@export()
@description('The optional SMTP password: Email__SmtpPassword.')
var emailSmtpPasswordSecretName = 'email-smtp-password'

@export()
@description('Secret of introspection client N (Introspection__Clients__N__Secret) is the secret introspection-client-N.')
func introspectionClientSecretName(index int) string => 'introspection-client-${index}'

@export()
@description('Client secret of OpenID Connect provider N (Oidc__Providers__N__ClientSecret) is the secret oidc-client-secret-N.')
func oidcClientSecretName(index int) string => 'oidc-client-secret-${index}'

@export()
@description('The private_key_jwt key of OpenID Connect provider N (Oidc__Providers__N__ClientAssertionKey) is the Key Vault certificate oidc-client-assertion-key-N (PEM content type: its secret is the key and the certificate).')
func oidcClientAssertionKeyName(index int) string => 'oidc-client-assertion-key-${index}'
