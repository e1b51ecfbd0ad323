import hmac

import pytest

from app.subsidies import identity

VALID = "11010519491231002X"  # the GB 11643 example


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张小明", "张*明"),
        ("欧阳明华", "欧**华"),
        ("司马相如", "司**如"),
        ("欧阳小明华", "欧***华"),
        ("诸葛孔明亮", "诸***亮"),
        ("爱新觉罗溥仪", "爱****仪"),
        ("买买提·艾力", "买****力"),
        ("阿卜杜热合曼·买买提", "阿********提"),
        ("李", "李*"),
        (" 王 五 ", "王*"),
        (" 欧阳 小明华 ", "欧***华"),
    ],
)
def test_names_are_masked_keeping_first_and_last(name: str, masked: str) -> None:
    assert identity.mask_name(name) == masked


def test_id_numbers_are_masked_to_first_six_and_last_four() -> None:
    assert identity.mask_id(VALID) == "110105********002X"


def test_id_numbers_are_normalised_and_checked() -> None:
    assert identity.check_id(" 11010519491231002x ") == VALID
    assert identity.check_id("110105 1949 1231 002X") == VALID
    with pytest.raises(identity.InvalidIdNumber, match="校验位"):
        identity.check_id("110105194912310021")
    with pytest.raises(identity.InvalidIdNumber, match="18 位"):
        identity.check_id("1101051949123100")
    with pytest.raises(identity.InvalidIdNumber):
        identity.check_id("110105194913310023")  # month 13


def test_identity_reads_birth_date_and_sex_and_hashes_with_the_pepper() -> None:
    person = identity.checked_identity(b"pepper-one", VALID)
    assert person.birth_on.isoformat() == "1949-12-31"
    assert person.sex == "F"  # 17th digit 2 is even
    assert VALID.encode() not in person.id_hash and len(person.id_hash) == 16
    assert identity.checked_identity(b"pepper-two", VALID).id_hash != person.id_hash
    assert identity.name_hash(b"k", "张 三") == identity.name_hash(b"k", "张三")


def test_full_width_digits_are_read_as_digits() -> None:
    assert identity.check_id("１１０１０５１９４９１２３１００２Ｘ") == VALID


def test_digits_of_other_scripts_are_not_an_id_number() -> None:
    # Arabic-Indic digits: Python counts them as digits, GB 11643 does not. Taken, the same
    # person would be stored twice under two spellings.
    arabic = VALID[:17].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) + "X"
    with pytest.raises(identity.InvalidIdNumber, match="18 位"):
        identity.check_id(arabic)


def test_keyed_hashes_are_hmac_sha256_cut_to_16_bytes_whatever_the_pepper() -> None:
    # Hashes already stored must still match: the prepared key is only a faster way there.
    for pepper in (b"pepper-one", b"pepper-two", b"k" * 100):
        expected = hmac.digest(pepper, VALID.encode(), "sha256")[:16]
        assert identity.keyed_hash(pepper, VALID) == expected


def test_a_wrong_id_number_is_told_in_full_what_is_wrong() -> None:
    # the villager reads these sentences as they are in the lookup's answer
    with pytest.raises(identity.InvalidIdNumber) as shape:
        identity.check_id("1101051949123100")
    assert str(shape.value) == "身份证号应为 18 位，前 17 位是数字，最后一位是数字或 X"
    with pytest.raises(identity.InvalidIdNumber) as check_character:
        identity.check_id("110105194912310021")
    assert str(check_character.value) == "身份证号校验位不对，请检查是否输错"


def test_an_odd_seventeenth_digit_is_a_man() -> None:
    man = "511923198806150034"  # 17th digit 3
    assert identity.checked_identity(b"pepper-one", man).sex == "M"
    assert identity.known_identity(man, b"h" * 16).sex == "M"
